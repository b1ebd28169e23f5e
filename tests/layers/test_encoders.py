import math

import numpy as np
import pytest
import torch
from torch import nn

from spikedyn.layers import ENCODERS, DirectEncoder, LatencyEncoder, PoissonEncoder, TimeDistributed, build_encoder
from spikedyn.neurons import LIF

EPS = 1e-7  # snnTorch's epsilon, the log code's cut-off above the threshold


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- Poisson ----------------------------------------------------------------------------


@pytest.mark.parametrize("gain", [1.0, 0.5, 2.5])
def test_poisson_rate_equals_gain_times_intensity_within_five_sigma(gain):
    probabilities = torch.tensor([0.0, 0.05, 0.3, 0.5, 0.77, 1.0])
    x = (probabilities / gain).repeat(2000, 1)  # [B=2000, 6]
    spikes = PoissonEncoder(time_steps=50, gain=gain, generator=_seeded(0))(x)
    assert spikes.shape == (50, 2000, 6)
    n = 50 * 2000
    rate = spikes.mean(dim=(0, 1))
    for p, r in zip(probabilities.tolist(), rate.tolist()):
        assert abs(r - p) <= 5 * math.sqrt(p * (1 - p) / n), (p, r)
    assert spikes[..., 0].sum() == 0 and spikes[..., -1].min() == 1  # 0 never fires, 1 always fires


def test_poisson_draws_are_independent_across_steps():
    spikes = PoissonEncoder(time_steps=40, generator=_seeded(1))(torch.full((5000,), 0.3))
    now, after = spikes[:-1].flatten(), spikes[1:].flatten()
    correlation = torch.corrcoef(torch.stack([now, after]))[0, 1]
    assert abs(correlation) < 5 / math.sqrt(now.numel())
    assert not torch.equal(spikes[0], spikes[1])


def test_poisson_sequence_gets_one_draw_per_step_from_that_steps_intensities():
    sequence = torch.stack([torch.zeros(4000), torch.ones(4000), torch.full((4000,), 0.25)]).unsqueeze(-1)  # [T=3, B, 1]
    spikes = PoissonEncoder(generator=_seeded(2))(sequence)
    assert spikes.shape == sequence.shape
    assert spikes[0].sum() == 0 and spikes[1].min() == 1
    assert abs(spikes[2].mean().item() - 0.25) <= 5 * math.sqrt(0.25 * 0.75 / 4000)


def test_poisson_generator_seed_reproduces_and_differs_between_seeds():
    x = torch.rand(8, 3, 5, 5)
    first = PoissonEncoder(time_steps=6, generator=_seeded(7))(x)
    torch.manual_seed(123)  # the default generator does not matter when one is given
    again = PoissonEncoder(time_steps=6, generator=_seeded(7))(x)
    other = PoissonEncoder(time_steps=6, generator=_seeded(8))(x)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)


def test_poisson_default_generator_follows_torch_manual_seed():
    encoder, x = PoissonEncoder(time_steps=6), torch.rand(8, 20)
    torch.manual_seed(42)
    first = encoder(x)
    torch.manual_seed(42)
    again = encoder(x)
    torch.manual_seed(43)
    other = encoder(x)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_poisson_spikes_are_zero_or_one_in_the_input_dtype_without_gradient(dtype):
    x = torch.rand(4, 10, dtype=dtype).requires_grad_()
    spikes = PoissonEncoder(time_steps=3, generator=_seeded(3))(x)
    assert spikes.dtype == dtype and not spikes.requires_grad
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize(
    ("x", "gain"),
    [(torch.randn(4, 10), 1.0), (torch.full((3,), 0.6), 2.0), (torch.tensor([0.2, float("nan")]), 1.0)],
    ids=["normalised", "gain_too_large", "nan"],
)
def test_poisson_refuses_probabilities_outside_the_unit_interval(x, gain):
    with pytest.raises(ValueError, match=r"gain \* x .*in \[0, 1\].*found values in .*normalize"):
        PoissonEncoder(time_steps=2, gain=gain)(x)


def test_poisson_gain_one_over_max_is_accepted_and_the_max_always_fires():
    x = torch.tensor([0.1, 0.3, 0.7]) / 3
    spikes = PoissonEncoder(time_steps=20, gain=1 / float(x.max()), generator=_seeded(4))(x.unsqueeze(0))
    assert spikes[..., 2].min() == 1


# ---- Latency ----------------------------------------------------------------------------


def _intensities(threshold: float) -> torch.Tensor:
    """[B=4, 50] float64: random values plus 0, 1, the threshold itself and values just around it."""
    special = torch.tensor([0.0, 1.0, threshold, threshold + 1e-9, threshold + 2 * EPS, threshold / 2], dtype=torch.float64)
    return torch.cat([special, torch.rand(194, generator=_seeded(5), dtype=torch.float64)]).reshape(4, 50)


def _expected_times(x: np.ndarray, steps: int, mode: str, threshold: float) -> np.ndarray:
    """The docstring's formulas, computed independently with numpy."""
    if mode == "linear":
        return np.round((steps - 1) * (1 - x))
    clipped = np.maximum(x, threshold + EPS)
    latest = np.log((threshold + EPS) / (threshold + EPS - threshold))
    return np.round(np.log(clipped / (clipped - threshold)) * (steps - 1) / latest)


@pytest.mark.parametrize("mode", ["linear", "log"])
@pytest.mark.parametrize("threshold", [0.01, 0.2])
def test_latency_fires_once_above_threshold_at_the_formula_time(mode, threshold):
    x = _intensities(threshold)
    spikes = LatencyEncoder(time_steps=16, mode=mode, threshold=threshold)(x)
    fires = (x > threshold).numpy()
    assert spikes.shape == (16, 4, 50)
    np.testing.assert_array_equal(spikes.sum(0).numpy(), fires.astype(float))
    times = spikes.argmax(0).numpy()
    np.testing.assert_array_equal(times[fires], _expected_times(x.numpy(), 16, mode, threshold)[fires])


@pytest.mark.parametrize("mode", ["linear", "log"])
def test_latency_brightest_fires_first_and_brighter_never_fires_later(mode):
    x = torch.cat([torch.linspace(0.0, 1.0, 401, dtype=torch.float64), torch.tensor([0.01 + 1e-9], dtype=torch.float64)]).sort().values
    spikes = LatencyEncoder(time_steps=32, mode=mode)(x.unsqueeze(0))[:, 0]
    times = spikes.argmax(0)[x > 0.01]
    assert times[-1] == 0
    assert torch.all(times[1:] <= times[:-1])
    assert times[0] == 31  # just above the threshold: the last step


def test_latency_static_sequence_equals_batch_with_time_steps_and_a_changing_one_is_refused():
    x = torch.rand(3, 2, 4, 4)
    for mode in ("linear", "log"):
        once = LatencyEncoder(time_steps=7, mode=mode)(x)
        torch.testing.assert_close(LatencyEncoder(mode=mode)(x.unsqueeze(0).expand(7, *x.shape)), once, rtol=0, atol=0)
    with pytest.raises(ValueError, match="static input"):
        LatencyEncoder()(torch.rand(7, 3, 2, 4, 4))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_latency_spikes_have_the_input_dtype_and_no_gradient(dtype):
    x = torch.rand(2, 9, dtype=dtype).requires_grad_()
    spikes = LatencyEncoder(time_steps=5, mode="log")(x)
    assert spikes.dtype == dtype and not spikes.requires_grad
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}


def test_latency_refuses_intensities_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"intensities x in \[0, 1\], found values in \[.*normalize"):
        LatencyEncoder(time_steps=4)(torch.randn(3, 5))


@pytest.mark.oracle
@pytest.mark.parametrize("linear", [True, False])
def test_latency_matches_snntorch_normalised_clipped_code(linear):
    spikegen = pytest.importorskip("snntorch.spikegen", reason="snntorch is not installed")
    x = torch.rand(6, 40, generator=_seeded(6))
    x[x < 0.05] = 0.0  # a dark background: snnTorch then normalises by the same time as ours, and no x equals the threshold
    x[0, :3] = torch.tensor([1.0, 0.0101, 0.011])
    for steps in (1, 8, 25):
        theirs = spikegen.latency(x, num_steps=steps, threshold=0.01, clip=True, normalize=True, linear=linear)
        ours = LatencyEncoder(time_steps=steps, mode="linear" if linear else "log", threshold=0.01)(x)
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


# ---- Direct -----------------------------------------------------------------------------


def test_direct_repeats_a_batch_as_a_view_and_passes_a_sequence_through():
    x = torch.rand(3, 1, 5, 5, requires_grad=True)
    repeated = DirectEncoder(time_steps=4)(x)
    torch.testing.assert_close(repeated, x.expand(4, 3, 1, 5, 5), rtol=0, atol=0)
    assert repeated.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()  # no copy
    repeated.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 4.0))
    sequence = torch.randn(4, 3, 2)
    assert DirectEncoder()(sequence) is sequence


# ---- Arguments, inputs, factory ---------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: DirectEncoder(time_steps=0), "time_steps must be an int >= 1 or None, got 0"),
        (lambda: PoissonEncoder(time_steps=2.5), "time_steps must be an int >= 1 or None"),
        (lambda: LatencyEncoder(time_steps=True), "time_steps must be an int >= 1 or None"),
        (lambda: PoissonEncoder(gain=0.0), "gain must be a finite number > 0, got 0.0"),
        (lambda: PoissonEncoder(gain=float("inf")), "gain must be a finite number > 0"),
        (lambda: PoissonEncoder(gain=-1), "gain must be a finite number > 0"),
        (lambda: LatencyEncoder(mode="exp"), "mode must be 'linear' or 'log', got 'exp'"),
        (lambda: LatencyEncoder(threshold=1.0), r"0 <= threshold < 1, got 1.0"),
        (lambda: LatencyEncoder(threshold=-0.1), r"0 <= threshold < 1"),
        (lambda: LatencyEncoder(mode="log", threshold=0.0), "mode='log' needs threshold > 0"),
    ],
)
def test_invalid_arguments_are_refused_by_name(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_poisson_generator_must_be_a_generator():
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        PoissonEncoder(generator=0)


@pytest.mark.parametrize("cls", [DirectEncoder, PoissonEncoder, LatencyEncoder])
def test_inputs_need_floating_point_and_a_batch_needs_time_steps(cls):
    with pytest.raises(TypeError, match="floating-point"):
        cls(time_steps=2)(torch.ones(3, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"time_steps=T for a batch \[B, \.\.\.\] or pass a sequence \[T, B, \.\.\.\]"):
        cls()(torch.rand(5))


def test_build_encoder_builds_each_kind_and_names_the_valid_choices():
    assert isinstance(build_encoder("direct", time_steps=3), DirectEncoder)
    poisson = build_encoder("poisson", time_steps=3, gain=0.5)
    assert isinstance(poisson, PoissonEncoder) and poisson.gain == 0.5
    latency = build_encoder("latency", mode="log", threshold=0.1)
    assert isinstance(latency, LatencyEncoder) and latency.mode == "log" and "threshold=0.1" in repr(latency)
    assert set(ENCODERS) == {"direct", "poisson", "latency"}
    with pytest.raises(ValueError, match="unknown encoder 'rate'; known: direct, poisson, latency"):
        build_encoder("rate")
    with pytest.raises(ValueError, match="no option 'tau'; valid: time_steps, mode, threshold"):
        build_encoder("latency", tau=2.0)


@pytest.mark.parametrize("encoder", [PoissonEncoder(time_steps=4), LatencyEncoder(time_steps=4), DirectEncoder(time_steps=4)])
def test_encoders_feed_a_spiking_network(encoder):
    torch.manual_seed(0)
    net = nn.Sequential(encoder, TimeDistributed(nn.Flatten()), TimeDistributed(nn.Linear(16, 3)), LIF())
    out = net(torch.rand(2, 1, 4, 4))
    assert out.shape == (4, 2, 3)
    out.sum().backward()
    assert net[2].layer.weight.grad is not None

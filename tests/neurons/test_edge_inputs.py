"""Every backend on degenerate and hostile inputs: no steps, no batch, NaN, +inf, a non-contiguous x; as the reference does."""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import use_backend
from tests.neurons.helpers import CPU_KERNELS, KINDS, firing_input, forced_kernel, make_neuron, run_with_grads

SHAPE = (3, 4)
# (v_reset, detach_reset, decay_input): hard reset with the PLIF paper's defaults, and soft reset with every option flipped
OPTIONS = [(0.0, True, True), (None, False, False)]


def _input(case: str) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    if case == "no steps":
        return torch.empty(0, 2, *SHAPE)
    if case == "no batch":
        return torch.empty(5, 0, *SHAPE)
    if case == "non-contiguous":  # [B, T, ...] transposed, every other neuron of a wider tensor
        x = firing_input(2, 5, SHAPE[0], 2 * SHAPE[1], generator=generator).transpose(0, 1)[..., ::2]
        assert not x.is_contiguous()
        return x
    x = firing_input(5, 2, *SHAPE, generator=generator)
    value = float("nan") if case == "NaN" else float("inf")
    x[1, 0, 0, 0] = x[3, 1, 2, 1] = x[4, 0, 1, 3] = value
    return x


def _same(got: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert got.shape == expected.shape, f"{what}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5, equal_nan=True, msg=lambda m: f"{what}: {m}")


# Triton's interpreter computes with numpy, which warns of the NaNs these inputs make; a GPU does not.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("case", ["no steps", "no batch", "NaN", "+inf", "non-contiguous"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kernel_gives_the_references_spikes_and_gradients(kind, case, kernel):
    x = _input(case)
    weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    for v_reset, detach_reset, decay_input in OPTIONS:
        torch.manual_seed(0)
        neuron = make_neuron(kind, SHAPE, imp="neuron", v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input)
        with use_backend("reference"):
            expected = run_with_grads(neuron, x, weights)
        with use_backend("fused"), forced_kernel(kernel):
            got = run_with_grads(neuron, x, weights)
        options = f"v_reset={v_reset}, detach_reset={detach_reset}, decay_input={decay_input}"
        assert torch.equal(got[0], expected[0]), f"spikes differ ({options})"
        assert got[2].keys() == expected[2].keys()
        for name, grad in expected[2].items():
            assert grad is not None and got[2][name] is not None, f"gradient of {name} missing ({options})"
            _same(got[2][name], grad, f"gradient of {name} ({options})")
        if case in ("no steps", "no batch"):  # nothing reaches the parameters
            assert all(not grad.any() for name, grad in got[2].items() if name != "x")


@pytest.mark.parametrize("case", ["NaN", "+inf"])
def test_a_non_finite_input_fires_as_the_dynamics_say(case):
    """NaN never reaches the threshold (no spike); +inf always does, and leaves a NaN potential behind.

    After +inf a hard reset is inf * 0 = NaN, and a soft one keeps V = inf, which the leak turns into inf - k * inf = NaN.
    """
    x = _input(case)
    for v_reset in (0.0, None):
        neuron = make_neuron("LIF", SHAPE, v_reset=v_reset)
        with use_backend("fused"), torch.no_grad():
            spikes, h = neuron(x, return_v=True)
        at = (1, 0, 0, 0)
        assert spikes[at] == (0.0 if case == "NaN" else 1.0)
        assert torch.isnan(h[at]) if case == "NaN" else h[at] == float("inf")
        assert torch.isnan(h[(at[0] + 1, *at[1:])])  # the step after
        untouched = torch.isfinite(x).all(0)  # neurons whose every input is finite stay finite: nothing leaks across
        assert torch.isfinite(h[:, untouched]).all() and untouched.sum() == untouched.numel() - 3


@pytest.mark.drill
@pytest.mark.parametrize("kind", KINDS)
def test_the_reference_runs_no_steps_like_the_fused_kernels(kind):
    # Before: run_reference read x[0] for the batch shape and raised IndexError on T = 0.
    neuron = make_neuron(kind, SHAPE, imp="neuron")
    x = torch.empty(0, 3, *SHAPE, requires_grad=True)
    with use_backend("reference"):
        spikes, h = neuron(x, return_v=True)
    assert spikes.shape == h.shape == (0, 3, *SHAPE)
    (spikes.sum() + h.sum()).backward()
    assert x.grad.shape == x.shape
    assert all(p.grad is not None and not p.grad.any() for p in neuron.parameters())  # zero, as the fused kernels give

"""What a user of the neuron modules relies on: shapes, state, checkpoints, choices, errors."""

from __future__ import annotations

import io

import pytest
import torch

from spikedyn.neurons import IF, LIF, PLIF, get_default_backend, set_default_backend, use_backend
from spikedyn.neurons.backends import kernel_for
from spikedyn.surrogate import Sigmoid
from tests.neurons.helpers import KINDS, firing_input, make_neuron

SHAPE = (4, 3, 3)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_output_has_the_input_shape_and_is_binary(kind, backend):
    neuron = make_neuron(kind, SHAPE, imp="neuron", backend=backend)
    x = firing_input(5, 2, *SHAPE)
    spikes = neuron(x)
    assert spikes.shape == x.shape and spikes.dtype == x.dtype
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    spikes_again, h = neuron(x, return_v=True)
    assert torch.equal(spikes, spikes_again) and h.shape == x.shape


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_calls_are_independent_no_state_leaks_between_batches(backend):
    neuron = make_neuron("PLIF-neuron", SHAPE, imp="neuron", backend=backend)
    x1, x2 = firing_input(6, 2, *SHAPE), firing_input(6, 2, *SHAPE)
    first = neuron(x1)
    neuron(x2).sum().backward()
    assert torch.equal(neuron(x1), first)


@pytest.mark.parametrize("kind", KINDS)
def test_step_by_step_equals_the_multi_step_forward(kind):
    neuron = make_neuron(kind, SHAPE, imp="channel", v_reset=None)
    x = firing_input(6, 2, *SHAPE)
    expected, h = neuron(x, return_v=True)
    state = None
    for t in range(x.shape[0]):
        spike, state = neuron.step(x[t], state)
        assert torch.equal(spike, expected[t])
        torch.testing.assert_close(state, h[t] - spike * neuron.dynamics.v_threshold)


def test_step_without_state_starts_from_the_imp():
    neuron = IF(shape=(3,), imp="neuron")
    _, v = neuron.step(torch.zeros(2, 3))
    torch.testing.assert_close(v, neuron.imp.detach().expand(2, 3))


def test_parameters_exist_before_any_forward_and_a_checkpoint_loads_without_one():
    torch.manual_seed(0)
    trained = PLIF(shape=SHAPE, tau_shape="neuron", tau_init="lognormal", tau_std=0.4, imp="neuron")
    names = {name for name, _ in trained.named_parameters()}
    assert names == {"tau_logit", "imp"}
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    buffer.seek(0)
    fresh = PLIF(shape=SHAPE, tau_shape="neuron", imp="neuron")
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x = firing_input(4, 2, *SHAPE)
    assert torch.equal(fresh(x), trained(x))
    assert torch.equal(fresh.tau, trained.tau)


@pytest.mark.parametrize("imp,expected", [(None, None), ("channel", (4,)), ("neuron", SHAPE)])
def test_imp_shape_and_init_range(imp, expected):
    neuron = LIF(shape=SHAPE, imp=imp, imp_init_range=(-0.1, 0.3))
    if expected is None:
        assert neuron.imp is None
    else:
        assert tuple(neuron.imp.shape) == expected
        assert neuron.imp.min() >= -0.1 and neuron.imp.max() <= 0.3


def test_imp_and_tau_learn_from_the_loss():
    neuron = PLIF(shape=(8,), tau_shape="neuron", imp="neuron")
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.5)
    before = (neuron.tau.clone(), neuron.imp.detach().clone())
    neuron(firing_input(8, 4, 8)).sum().backward()
    optimizer.step()
    assert not torch.equal(neuron.tau, before[0]) and not torch.equal(neuron.imp.detach(), before[1])


def test_lif_tau_is_fixed_and_reported_and_if_never_leaks():
    neuron = LIF(tau=4.0)
    assert list(neuron.parameters()) == [] and float(neuron.tau) == pytest.approx(4.0)
    assert float(IF().tau) == float("inf")


def test_backend_choice_global_scoped_and_per_module():
    x = torch.zeros(1, 1, 1)
    dyn = PLIF().dynamics
    assert get_default_backend() == "auto" and kernel_for(None, x, dyn) == "numba"
    assert kernel_for(None, x.bfloat16(), dyn) == "torch"  # auto on the CPU is fused: numba, else torch ops
    with use_backend("reference"):
        assert kernel_for(None, x, dyn) == "reference"
        assert kernel_for("fused", x, dyn) == "numba"
    assert get_default_backend() == "auto"
    set_default_backend("reference")
    try:
        assert kernel_for(None, x, dyn) == "reference"
    finally:
        set_default_backend("auto")


def test_fused_graph_backpropagates_once_with_a_clear_error_after():
    neuron = PLIF(shape=(5,), backend="fused")
    loss = neuron(firing_input(4, 2, 5).requires_grad_()).sum()
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_fused_graph_with_returned_potentials_backpropagates_twice():
    neuron = PLIF(shape=(5,), backend="fused")
    x = firing_input(4, 2, 5).requires_grad_()
    spikes, h = neuron(x, return_v=True)
    loss = spikes.sum() + h.sum()
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward()
    torch.testing.assert_close(x.grad, 2 * first)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: PLIF(tau=1.0), "tau must be a finite number > 1"),
        (lambda: LIF(tau=0.5), "tau must be a finite number > 1"),
        (lambda: PLIF(tau=float("nan")), "tau must be a finite number > 1"),
        (lambda: PLIF(tau_shape="neuron"), "tau_shape='neuron' needs the feature shape"),
        (lambda: PLIF(tau_shape="channel"), "tau_shape='channel' needs the feature shape"),
        (lambda: IF(imp="neuron"), "imp='neuron' needs the feature shape"),
        (lambda: PLIF(tau_shape="per-neuron", shape=(3,)), r"tau_shape='per-neuron' is not supported; expected one of \['layer', 'channel', 'neuron'\]"),
        (lambda: PLIF(tau_init="uniform"), "tau_init='uniform' is not supported"),
        (lambda: PLIF(tau_init="lognormal", tau_std=0.0), "needs tau_std > 0"),
        (lambda: LIF(imp="layer", shape=(3,)), "imp='layer' is not supported"),
        (lambda: LIF(backend="cuda"), "unknown neuron backend 'cuda'"),
        (lambda: LIF(shape=(0, 3)), "shape must be a positive int"),
        (lambda: LIF(v_threshold=0.5, v_reset=0.5), "v_reset .* must be below v_threshold"),
        (lambda: LIF(imp="neuron", shape=(3,), imp_init_range=(0.2, -0.2)), "imp_init_range"),
        (lambda: set_default_backend("fast"), "unknown neuron backend 'fast'"),
    ],
)
def test_bad_options_raise_errors_that_name_the_problem(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="decay_input"):  # IF has no leak: Python names the keyword it does not take
        IF(decay_input=False)
    with pytest.raises(TypeError, match="surrogate must be"):
        LIF(surrogate=torch.sigmoid)
    with pytest.raises(TypeError, match="detach_reset must be True or False"):
        LIF(detach_reset="yes")
    with pytest.raises(TypeError, match="floating-point"):
        LIF()(torch.ones(2, 2, 2, dtype=torch.long))


@pytest.mark.parametrize("bad", [(5, 2, 4, 3, 2), (5, 4, 3, 3), (2, 4, 3)])
def test_input_of_the_wrong_shape_names_expected_and_received(bad):
    neuron = PLIF(shape=SHAPE, tau_shape="channel")
    with pytest.raises(ValueError, match=r"expects input \[T, B, \*shape\] with shape=\(4, 3, 3\), got a tensor of shape"):
        neuron(torch.zeros(bad))


def test_step_input_of_the_wrong_shape_is_an_error():
    with pytest.raises(ValueError, match=r"\[B, \*shape\]"):
        LIF(shape=(3,)).step(torch.zeros(1, 2, 3))


def test_repr_names_the_options():
    text = repr(PLIF(shape=(3,), tau_shape="neuron", imp="neuron", surrogate=Sigmoid(), v_reset=None))
    assert "tau_shape='neuron'" in text and "imp='neuron'" in text and "Sigmoid" in text and "v_reset=None" in text

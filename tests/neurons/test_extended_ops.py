"""The extended neuron's custom operators and kernels: schema and fake shapes, every CPU kernel against the reference, edge inputs.

test_extended_dynamics checks every option against a literal loop on the backends a user names;
here each kernel (numba, torch ops, Triton through its interpreter) is forced in turn, with
H returned, float64, broadcast spike gradients, empty and non-contiguous inputs.
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import ALIF, LIF, PLIF, CubaLIF, use_backend
from spikedyn.neurons.backends import extended_ops
from spikedyn.surrogate import Rectangular, Sigmoid, Triangle
from tests.neurons.helpers import CPU_KERNELS, FLOAT64_KERNELS, firing_input, forced_kernel, run_with_grads

SHAPE = (3, 4)
NEURONS = {
    "ALIF-neuron+IMP, soft, attached": lambda: ALIF(3.0, shape=SHAPE, tau_shape="neuron", adaptation_shape="neuron", imp="neuron",
                                                    v_reset=None, detach_reset=False, threshold="channel", adaptation_strength=0.3),
    "ALIF-channel, hard, detached adaptation, rectangular": lambda: ALIF(shape=SHAPE, adaptation_shape="channel", detach_adaptation=True,
                                                                         surrogate=Rectangular(), threshold="layer"),
    "CubaLIF-neuron+IMP, no decay_input, sigmoid": lambda: CubaLIF(2.5, shape=SHAPE, synaptic_shape="neuron", decay_input=False,
                                                                   imp="channel", surrogate=Sigmoid(alpha=3.0), threshold="neuron"),
    "LIF-threshold, triangle, reset kept": lambda: LIF(2.0, shape=SHAPE, threshold="neuron", surrogate=Triangle(), detach_reset=False),
}  # fmt: skip


def _neuron(name: str, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    torch.manual_seed(len(name))
    neuron = NEURONS[name]().to(dtype)
    with torch.no_grad():
        for param in neuron.parameters():
            param.add_(0.2 * torch.randn_like(param))
    return neuron


def _assert_same(got, expected, tolerance: float) -> None:
    assert torch.equal(got[0], expected[0]), "spikes differ"
    if expected[1] is not None:
        torch.testing.assert_close(got[1], expected[1], rtol=0, atol=0)
    assert got[2].keys() == expected[2].keys()
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=tolerance, atol=tolerance, msg=lambda m, name=name: f"d/d{name}: {m}")


def _forward_args(neuron, x: torch.Tensor, keep: bool = True) -> tuple:
    quantities = tuple(x.new_full((), value) if isinstance(value, float) else value for value in neuron.quantities())
    return (x, *quantities, neuron.imp, "fused", *extended_ops.dynamics_args(neuron.dynamics), keep, False)


@pytest.mark.parametrize("name", NEURONS)
def test_forward_operator_passes_opcheck(name):
    neuron = _neuron(name)
    x = firing_input(5, 2, *SHAPE).requires_grad_()
    torch.library.opcheck(torch.ops.spikedyn.extended_forward.default, _forward_args(neuron, x))


@pytest.mark.parametrize("name", NEURONS)
def test_backward_operators_pass_opcheck(name):
    """They run inside the forward's backward and are not differentiated themselves (no double backward)."""
    neuron = _neuron(name).requires_grad_(False)
    x = firing_input(5, 2, *SHAPE)
    args = _forward_args(neuron, x)
    _, h, current, adaptation = torch.ops.spikedyn.extended_forward(*args)
    rest = (torch.randn_like(h), torch.randn_like(h), *args[1:7], "fused", *extended_ops.dynamics_args(neuron.dynamics))
    needs = [value is not None for value in args[1:7]]
    torch.library.opcheck(torch.ops.spikedyn.extended_backward.default, (h, current, adaptation, *rest, needs))
    torch.library.opcheck(torch.ops.spikedyn.extended_backward_.default, (h.clone(), current, adaptation, *rest, needs))


def test_fake_shapes_follow_what_the_neuron_keeps():
    """Under fake tensors: I only with a synaptic current, a only with adaptation, nothing kept for inference."""
    with torch._subclasses.fake_tensor.FakeTensorMode():
        x = torch.empty(4, 2, *SHAPE)
        for name, kept in (("ALIF-channel, hard, detached adaptation, rectangular", (True, False, True)),
                           ("CubaLIF-neuron+IMP, no decay_input, sigmoid", (True, True, False))):  # fmt: skip
            neuron = NEURONS[name]()
            outputs = torch.ops.spikedyn.extended_forward(*_forward_args(neuron, x))
            assert [tuple(t.shape) for t in outputs] == [tuple(x.shape)] + [tuple(x.shape) if on else (0,) for on in kept]
            outputs = torch.ops.spikedyn.extended_forward(*_forward_args(neuron, x, keep=False))
            assert [tuple(t.shape) for t in outputs[1:]] == [(0,)] * 3


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("name", NEURONS)
@pytest.mark.parametrize("return_v", [False, True])
def test_every_kernel_matches_the_reference(kernel, name, return_v):
    neuron = _neuron(name)
    x = firing_input(6, 3, *SHAPE)
    weights = torch.rand(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v)
    with use_backend("fused"), forced_kernel(kernel):
        got = run_with_grads(neuron, x, weights, return_v)
    _assert_same(got, expected, 1e-5)


@pytest.mark.parametrize("kernel", FLOAT64_KERNELS)
@pytest.mark.parametrize("name", NEURONS)
def test_float64_matches_the_reference_tightly(kernel, name):
    neuron = _neuron(name, torch.float64)
    x = firing_input(6, 3, *SHAPE, dtype=torch.float64)
    weights = torch.rand(x.shape, dtype=torch.float64)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v=True)
    with use_backend("fused"), forced_kernel(kernel):
        got = run_with_grads(neuron, x, weights, return_v=True)
    _assert_same(got, expected, 1e-11)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
def test_broadcast_spike_gradients_and_non_contiguous_inputs(kernel):
    """spikes.sum() sends a stride-0 gradient; a transposed input reaches the operator as it is."""
    neuron = _neuron("ALIF-neuron+IMP, soft, attached")
    x = firing_input(3, 6, *SHAPE).transpose(0, 1)  # [T=6, B=3, ...], not contiguous
    assert not x.is_contiguous()
    results = []
    for backend in ("reference", "fused"):
        neuron.zero_grad(set_to_none=True)
        leaf = x.detach().requires_grad_(True)
        with use_backend(backend), forced_kernel(kernel):
            spikes = neuron(leaf)
            spikes.sum().backward()
        results.append((spikes.detach(), None, {"x": leaf.grad, **{n: p.grad for n, p in neuron.named_parameters()}}))
    _assert_same(results[1], results[0], 1e-5)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("size", [(0, 2), (3, 0)], ids=["T=0", "B=0"])
def test_empty_inputs_give_empty_outputs_and_zero_gradients(kernel, size):
    neuron = _neuron("CubaLIF-neuron+IMP, no decay_input, sigmoid")
    x = torch.zeros(*size, *SHAPE, requires_grad=True)
    with use_backend("fused"), forced_kernel(kernel):
        spikes, h = neuron(x, return_v=True)
        (spikes.sum() + h.sum()).backward()
    assert spikes.shape == h.shape == x.shape
    assert x.grad.shape == x.shape
    for name, param in neuron.named_parameters():
        assert param.grad is not None and not param.grad.any(), name


def test_a_user_surrogate_takes_the_torch_path_with_the_same_gradients():
    class Custom(Sigmoid):
        KERNEL_ID = None

    neuron = ALIF(shape=SHAPE, surrogate=Custom(alpha=2.0), threshold="neuron", adaptation_shape="neuron")
    with pytest.raises(TypeError, match="KERNEL_ID"):
        extended_ops.dynamics_args(neuron.dynamics)
    x = firing_input(5, 2, *SHAPE)
    weights = torch.rand(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v=True)
    with use_backend("fused"):
        got = run_with_grads(neuron, x, weights, return_v=True)
    _assert_same(got, expected, 1e-5)


def test_the_private_buffer_refuses_a_second_backward():
    neuron = PLIF(shape=SHAPE, threshold="neuron", backend="fused")
    x = firing_input(4, 2, *SHAPE).requires_grad_()
    loss = neuron(x).sum()
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backpropagated once"):
        loss.backward()


def test_inference_keeps_nothing_and_fires_the_same():
    neuron = _neuron("ALIF-neuron+IMP, soft, attached")
    x = firing_input(6, 3, *SHAPE)
    with torch.no_grad():
        with use_backend("reference"):
            expected = neuron(x)
        with use_backend("fused"):
            got = neuron(x)
    assert torch.equal(got, expected)

"""The fused backend (numba and torch kernels) against the reference: spikes, H and gradients."""

from __future__ import annotations

import itertools
import zlib

import pytest
import torch

from spikedyn.neurons import use_backend
from spikedyn.neurons.backends import numba_kernel, selection
from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Triangle
from tests.neurons.helpers import CPU_KERNELS, FLOAT64_KERNELS, KINDS, firing_input, forced_kernel, make_neuron, run_with_grads

SURROGATES = (ATan(), Sigmoid(), Triangle(), Rectangular(alpha=0.7))
SHAPE = (3, 2, 5)

COMBINATIONS = [
    combo
    for combo in itertools.product(KINDS, (None, "channel", "neuron"), (0.0, None), (True, False), (True, False))
    if not (combo[0] == "IF" and combo[4] is False)
]


def _compare(kind, imp, v_reset, detach_reset, decay_input, surrogate, kernel, return_v=False, dtype=torch.float32):
    torch.manual_seed(zlib.crc32(repr((kind, imp, v_reset, detach_reset, decay_input, surrogate)).encode()))
    neuron = make_neuron(kind, SHAPE, imp=imp, v_reset=v_reset, detach_reset=detach_reset,
                         decay_input=decay_input, surrogate=surrogate).to(dtype)  # fmt: skip
    x = firing_input(7, 4, *SHAPE, dtype=dtype)
    weights = torch.randn(x.shape, dtype=dtype)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v)
    with use_backend("fused"), forced_kernel(kernel):
        got = run_with_grads(neuron, x, weights, return_v)
    assert expected[0].sum() > 0, "the input should make neurons fire"
    assert torch.equal(got[0], expected[0]), "spikes differ"
    if return_v:
        assert torch.equal(got[1], expected[1]), "membrane potentials H differ"
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-10}
    assert got[2].keys() == expected[2].keys()
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, **tol, msg=lambda m: f"gradient of {name}: {m}")


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("kind,imp,v_reset,detach_reset,decay_input", COMBINATIONS)
def test_fused_matches_reference_atan(kind, imp, v_reset, detach_reset, decay_input, kernel):
    _compare(kind, imp, v_reset, detach_reset, decay_input, ATan(), kernel)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("surrogate", SURROGATES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("v_reset,detach_reset", [(0.0, True), (0.0, False), (None, False)])
def test_fused_matches_reference_each_surrogate(kind, surrogate, v_reset, detach_reset, kernel):
    _compare(kind, "neuron", v_reset, detach_reset, True, surrogate, kernel)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("kind", KINDS)
def test_fused_matches_reference_when_h_is_returned_and_used(kind, kernel):
    _compare(kind, "channel", 0.0, False, False, Sigmoid(), kernel, return_v=True)


@pytest.mark.parametrize("kernel", FLOAT64_KERNELS)
@pytest.mark.parametrize("kind", KINDS)
def test_fused_matches_reference_in_float64(kind, kernel):
    _compare(kind, "neuron", None, True, True, ATan(), kernel, dtype=torch.float64)


def test_numba_kernel_serves_cpu_float32_and_float64():
    x = torch.zeros(2, 1, 1)
    dyn = make_neuron("LIF", (1,)).dynamics
    assert numba_kernel.AVAILABLE
    assert selection.select_kernel("fused", x, dyn) == "numba"
    assert selection.select_kernel("auto", x.double(), dyn) == "numba"
    assert selection.select_kernel("fused", x.bfloat16(), dyn) == "torch"


def test_fused_in_bfloat16_runs_the_torch_kernel_and_matches_reference_spikes():
    neuron = make_neuron("PLIF-neuron", SHAPE, imp="neuron")
    x = firing_input(5, 3, *SHAPE).bfloat16()
    with use_backend("reference"):
        expected = neuron(x)
    with use_backend("fused"):
        got = neuron(x)
    assert got.dtype == torch.bfloat16
    assert torch.equal(got, expected)


def test_large_input_split_over_threads_matches_reference():
    """Enough neurons that the numba kernels split work over threads and several blocks."""
    shape = (numba_kernel.BLOCK * 2 + 37,)
    neuron = make_neuron("PLIF-neuron", shape, imp="neuron")
    x = firing_input(6, 24, *shape)
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with use_backend("fused"):
            got = run_with_grads(neuron, x, weights)
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(got[0], expected[0])
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("kind", KINDS)
def test_inference_without_a_graph_matches_reference(kind, kernel):
    neuron = make_neuron(kind, SHAPE, imp="neuron")
    x = firing_input(6, 3, *SHAPE)
    with torch.no_grad():
        with use_backend("reference"):
            expected, expected_h = neuron(x, return_v=True)
        with use_backend("fused"), forced_kernel(kernel):
            spikes = neuron(x)
            spikes_again, h = neuron(x, return_v=True)
    assert torch.equal(spikes, expected) and torch.equal(spikes_again, expected)
    assert torch.equal(h, expected_h)


LOSSES = {
    "sum": lambda s: s.sum(),  # a stride-0 gradient, one value for everything
    "mean_over_time": lambda s: (s.mean(0) * torch.linspace(-1, 1, s[0].numel()).view_as(s[0])).sum(),  # broadcast over T
    "per_step": lambda s: (s.sum((1, 2, 3, 4)) * torch.arange(1.0, s.shape[0] + 1)).sum(),  # one value per step
    "transposed": lambda s: (s.transpose(1, 2) * torch.linspace(-2, 2, s.numel()).view_as(s.transpose(1, 2))).sum(),
}


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("loss", LOSSES)
def test_fused_reads_broadcast_and_strided_gradients(loss, kernel):
    """The incoming gradient is read as it comes (broadcast, per step, transposed): same as the reference."""
    neuron = make_neuron("PLIF-channel", SHAPE, imp="neuron")
    x0 = firing_input(6, 4, *SHAPE)
    grads = []
    for backend in ("reference", "fused"):
        neuron.zero_grad(set_to_none=True)
        x = x0.clone().requires_grad_()
        with use_backend(backend), forced_kernel(kernel):
            LOSSES[loss](neuron(x)).backward()
        grads.append((x.grad, neuron.tau_logit.grad, neuron.imp.grad))
    for got, expected in zip(grads[1], grads[0]):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("v_reset", [0.0, None])
@pytest.mark.parametrize("kind", KINDS)
def test_an_input_of_minus_infinity_gives_the_references_gradients(kind, v_reset, kernel):
    """H = -inf makes every surrogate 0: the terms an option switches off stay 0, never 0 * inf = NaN."""
    neuron = make_neuron(kind, (3,), imp="neuron", v_reset=v_reset)
    x = firing_input(4, 2, 3)
    x[0, 0, 0] = x[2, 1, 1] = -float("inf")
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    with use_backend("fused"), forced_kernel(kernel):
        got = run_with_grads(neuron, x, weights)
    assert torch.equal(got[0], expected[0])
    if kind == "IF":
        assert torch.isfinite(expected[2]["x"]).all()
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-5, equal_nan=True, msg=lambda m: f"gradient of {name}: {m}")

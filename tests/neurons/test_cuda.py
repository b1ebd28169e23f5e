"""The fused backends on CUDA tensors against the reference on the same device (skipped without a GPU)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from spikedyn.neurons import use_backend
from spikedyn.neurons.backends import kernel_for
from tests.neurons.helpers import KINDS, firing_input, make_neuron, run_with_grads

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
BACKENDS = ("fused", pytest.param("triton", marks=[pytest.mark.triton, pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="needs triton")]))  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("v_reset,decay_input", [(0.0, True), (None, False)])
@pytest.mark.parametrize("kind", KINDS)
def test_fused_on_cuda_matches_reference(kind, v_reset, decay_input, backend):
    neuron = make_neuron(kind, (3, 40), imp="neuron", v_reset=v_reset, decay_input=decay_input).cuda()
    x = firing_input(6, 37, 3, 40).cuda()
    weights = torch.randn_like(x)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    with use_backend(backend):
        got = run_with_grads(neuron, x, weights)
        again = run_with_grads(neuron, x, weights)
    assert torch.equal(got[0], expected[0])
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-5)
        assert torch.equal(got[2][name], again[2][name]), f"gradient of {name} is not reproducible"


def test_auto_takes_triton_on_cuda():
    neuron = make_neuron("PLIF-layer", (4,))
    expected = "triton" if importlib.util.find_spec("triton") else "torch"
    assert kernel_for(None, torch.zeros(1, 1, 4, device="cuda"), neuron.dynamics) == expected

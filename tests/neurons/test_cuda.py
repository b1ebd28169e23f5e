"""The fused backend on CUDA tensors against the reference on the same device."""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import use_backend
from tests.neurons.helpers import KINDS, firing_input, make_neuron, run_with_grads

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("kind", KINDS)
def test_fused_on_cuda_matches_reference(kind):
    neuron = make_neuron(kind, (3, 4), imp="neuron").cuda()
    x = firing_input(6, 5, 3, 4).cuda()
    weights = torch.randn_like(x)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    with use_backend("fused"):
        got = run_with_grads(neuron, x, weights)
    assert torch.equal(got[0], expected[0])
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-5)

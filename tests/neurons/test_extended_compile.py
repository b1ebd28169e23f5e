"""torch.compile (fullgraph) and torch.export see through a network of ALIF and CubaLIF layers: one graph, eager's numbers."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from spikedyn.layers.temporal import TimeDistributed
from spikedyn.neurons import ALIF, CubaLIF

pytestmark = pytest.mark.slow


def _network() -> nn.Module:
    torch.manual_seed(0)
    first, second = nn.Linear(6, 10), nn.Linear(10, 8)
    for layer in (first, second):  # weights that make both layers fire a fair share
        nn.init.normal_(layer.weight, 0.15, 0.4)
    return nn.Sequential(
        TimeDistributed(first),
        ALIF(2.0, shape=(10,), tau_shape="neuron", adaptation_shape="neuron", adaptation_strength=0.3, imp="neuron", threshold="neuron"),
        TimeDistributed(second),
        CubaLIF(2.5, shape=(8,), synaptic_shape="neuron", synaptic_tau=3.0, v_reset=None, threshold="layer"),
    )


def _outputs_and_grads(model: nn.Module, forward, x: torch.Tensor):
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    y = forward(x)
    (y * torch.linspace(0.5, 1.5, y.shape[-1])).sum().backward()
    return y.detach(), x.grad, {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiles_whole_and_matches_eager(backend):
    """fullgraph (no graph break), dynamic shapes (a second input shape does not recompile), the same gradients."""
    model = _network()
    compiled = torch.compile(model, fullgraph=True, dynamic=True, backend=backend)
    for index, x in enumerate([torch.rand(5, 3, 6) * 2, torch.rand(7, 4, 6) * 2]):
        with torch._dynamo.config.patch(error_on_recompile=index > 0):
            got = _outputs_and_grads(model, compiled, x)
        expected = _outputs_and_grads(model, model, x)
        assert torch.equal(got[0], expected[0]) and 0 < float(expected[0].mean()) < 1
        torch.testing.assert_close(got[1], expected[1], rtol=1e-5, atol=1e-6)
        for name, grad in expected[2].items():
            torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-6, msg=lambda m, name=name: f"d/d{name}: {m}")


def test_export_round_trips_with_a_dynamic_batch():
    """torch.export keeps the neurons as the extended operator; saved and loaded, it runs any batch size as eager does."""
    model = _network().eval()
    batch = torch.export.Dim("batch", min=1, max=512)
    program = torch.export.export(model, (torch.rand(4, 2, 6),), dynamic_shapes=({1: batch},))
    assert sum("spikedyn.extended_forward" in str(node.target) for node in program.graph.nodes) == 2
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer)
    for size in (1, 5):
        x = torch.rand(4, size, 6) * 2
        with torch.no_grad():
            torch.testing.assert_close(loaded.module()(x), model(x), rtol=0, atol=0)

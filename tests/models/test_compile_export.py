"""torch.compile and torch.export see through the neurons: one graph, same numbers as eager.

plifnet_mnist compiles with Inductor (code generation included). The SEW-ResNet-18 compiles
with ``aot_eager``: the same Dynamo and AOTAutograd tracing with fake tensors and
functionalization, minus Inductor's code generation, which takes about 90 s for it on two
cores (it was checked by hand to agree as well).
"""

from __future__ import annotations

import io
from functools import partial

import pytest
import torch

from spikedyn.models import build_model
from spikedyn.neurons import LIF, PLIF

pytestmark = pytest.mark.slow

PER_NEURON_PLIF = partial(PLIF, tau=2.0, tau_shape="neuron", tau_init="lognormal", tau_std=0.5, imp="neuron")


def _outputs_and_grads(model: torch.nn.Module, forward, x: torch.Tensor):
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    y = forward(x)
    (y.square().sum() + y.mean()).backward()
    return y.detach(), x.grad, {name: p.grad for name, p in model.named_parameters()}


def _assert_same(got, expected) -> None:
    torch.testing.assert_close(got[0], expected[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got[1], expected[1], rtol=1e-4, atol=1e-6)
    for name, grad in expected[2].items():
        error = ((got[2][name] - grad).norm() / grad.norm().clamp_min(1e-12)).item()
        assert error < 1e-4, f"gradient of {name} differs by {error:.2e} (relative)"


def _check_compiled(model: torch.nn.Module, backend: str, inputs: list[torch.Tensor]) -> None:
    """fullgraph (no graph break), dynamic shapes (the second input shape does not recompile)."""
    compiled = torch.compile(model, fullgraph=True, dynamic=True, backend=backend)
    for index, x in enumerate(inputs):
        with torch._dynamo.config.patch(error_on_recompile=index > 0):
            got = _outputs_and_grads(model, compiled, x)
        _assert_same(got, _outputs_and_grads(model, model, x))


def test_plifnet_mnist_compiles_whole_with_inductor():
    torch.manual_seed(0)
    model = build_model("plifnet_mnist", neuron=PER_NEURON_PLIF, dropout=0.0, input_size=12)
    _check_compiled(model, "inductor", [torch.rand(2, 9, 1, 12, 12), torch.rand(3, 7, 1, 12, 12)])


def test_sew_resnet18_traces_whole():
    torch.manual_seed(0)
    neuron = partial(LIF, tau=4.0 / 3.0, decay_input=False, imp="neuron")
    model = build_model("sew_resnet18", neuron=neuron, input_size=16, num_classes=10)
    _check_compiled(model, "aot_eager", [torch.rand(2, 8, 3, 16, 16), torch.rand(3, 7, 3, 16, 16)])


EXPORTED = {
    "plifnet_mnist": ({"neuron": PER_NEURON_PLIF, "input_size": 12}, (1, 12, 12)),
    "sew_resnet18": ({"input_size": 16, "num_classes": 10}, (3, 16, 16)),
}


@pytest.mark.parametrize("name", EXPORTED)
def test_export_round_trips(name):
    """torch.export on the default backend, saved and loaded: the loaded program computes the same."""
    torch.manual_seed(0)
    options, frame_shape = EXPORTED[name]
    model = build_model(name, **options).eval()
    x = torch.rand(2, 3, *frame_shape)
    program = torch.export.export(model, (x,))
    assert any("spikedyn.neuron_forward" in str(node.target) for node in program.graph.nodes)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module()(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", EXPORTED)
def test_export_with_a_dynamic_batch_runs_every_batch_size(name):
    """A whole network exports with a symbolic batch (TimeDistributed(Flatten) used to violate its constraints) and runs any B."""
    torch.manual_seed(0)
    options, frame_shape = EXPORTED[name]
    model = build_model(name, **options).eval()
    batch = torch.export.Dim("batch", min=1, max=512)
    program = torch.export.export(model, (torch.rand(2, 3, *frame_shape),), dynamic_shapes=({1: batch},))
    for size in (1, 5):
        x = torch.rand(2, size, *frame_shape)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(x), model(x), rtol=0, atol=0)

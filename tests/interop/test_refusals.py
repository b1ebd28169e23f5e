"""What NIR cannot express is refused layer by layer, or approximated only on request and then reported."""

from __future__ import annotations

from collections import OrderedDict

import nir
import numpy as np
import pytest
import torch
from torch import nn

from spikedyn.interop import ApproximationWarning, NIRExportError, NIRImportError, export_graph, from_nir, to_nir
from spikedyn.layers import SpikeMaxPool2d, TemporalEffectiveBatchNorm2d, TimeDistributed
from spikedyn.models import imp_paper_neuron
from spikedyn.neurons import LIF, PLIF
from tests.interop.helpers import tiny_plifnet
from tests.interop.nir_reference import run_nir

DT = 1e-4
SAMPLE = torch.zeros(4, 1, 2, 8, 8)


def three_inexpressible_layers() -> nn.Module:
    """A TEBN whose scale differs between steps, a soft-reset LIF, and a PLIF with a learned initial potential."""
    torch.manual_seed(0)
    tebn = TemporalEffectiveBatchNorm2d(3, time_steps=4)
    with torch.no_grad():
        tebn.time_scale.copy_(torch.tensor([0.8, 1.0, 1.2, 1.4]))
    return nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3, padding=1)), tebn, LIF(tau=2.0, v_reset=None),
                         TimeDistributed(nn.Conv2d(3, 3, 3, padding=1)), PLIF(imp="neuron", shape=(3, 8, 8))).eval()  # fmt: skip


def test_every_inexpressible_layer_is_named_with_its_reason():
    with pytest.raises(NIRExportError) as caught:
        to_nir(three_inexpressible_layers(), SAMPLE, DT)
    message = str(caught.value)
    assert message.startswith("cannot export to NIR exactly:")
    assert "1 (TemporalEffectiveBatchNorm2d): a scale p_t per time step (0.8 to 1.4 over T=4)" in message
    assert "2 (LIF): soft reset" in message and "reset to v_reset" in message
    assert "4 (PLIF): a learned initial potential (IMP, per neuron): NIR has no initial-potential field" in message
    assert "approximate=True" in message and "spikedyn export --approximate" in message
    assert [issue.layer for issue in caught.value.issues] == ["1", "2", "4"]


def test_the_approximation_is_opt_in_and_reported_layer_by_layer():
    with pytest.warns(ApproximationWarning) as warned:
        result = export_graph(three_inexpressible_layers(), SAMPLE, DT, approximate=True)
    assert len(result.approximations) == 3 and [str(w.message) for w in warned] == list(result.approximations)
    tebn, soft, imp = result.approximations
    assert tebn.startswith("1 (TemporalEffectiveBatchNorm2d)") and "their mean 1.1 at every step" in tebn
    assert soft.startswith("2 (LIF): soft reset") and "exported with a hard reset to 0" in soft
    assert imp.startswith("4 (PLIF)") and "is dropped" in imp
    assert result.graph.metadata["approximations"] == "\n".join(result.approximations)
    assert np.all(result.graph.nodes["2"].v_reset == 0.0)


def test_an_approximated_soft_reset_runs_as_the_hard_reset_it_reports():
    torch.manual_seed(0)
    soft = nn.Sequential(TimeDistributed(nn.Linear(5, 4)), LIF(tau=2.0, v_reset=None)).double()
    hard = nn.Sequential(soft[0], LIF(tau=2.0, v_reset=0.0)).double()
    x = torch.rand(30, 2, 5, dtype=torch.float64) * 6
    with pytest.warns(ApproximationWarning, match="soft reset"):
        graph = to_nir(soft, x, DT, approximate=True)
    with torch.no_grad():
        assert torch.equal(run_nir(graph, x, DT)["output"], hard(x))
        assert not torch.equal(soft(x), hard(x))  # the approximation does change the spikes: hence the report


def test_a_non_detached_reset_and_the_surrogate_do_not_matter_at_inference():
    model = nn.Sequential(TimeDistributed(nn.Linear(5, 4)), imp_paper_neuron()).double()  # detach_reset=False, triangle surrogate
    x = torch.rand(20, 2, 5, dtype=torch.float64) * 3
    graph = to_nir(model, x, DT)
    with torch.no_grad():
        assert torch.equal(run_nir(graph, x, DT)["output"], model(x))


@pytest.mark.parametrize("approximate", [False, True])
def test_max_pooling_of_values_that_are_not_spikes_has_no_approximation(approximate):
    model = nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3)), SpikeMaxPool2d(2), LIF(tau=2.0))
    with pytest.raises(NIRExportError, match=r"1\.layer \(MaxPool2d\): max-pooling of values that are not spikes.*no approximation exists") as caught:
        to_nir(model, SAMPLE, DT, approximate=approximate)
    assert "approximate=True" not in str(caught.value)
    assert str(caught.value).startswith("cannot export to NIR even approximately" if approximate else "cannot export to NIR exactly")


def test_only_the_layers_without_approximation_are_named_when_approximating():
    model = nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3)), LIF(tau=2.0, v_reset=None), TimeDistributed(nn.BatchNorm2d(3)))
    with pytest.raises(NIRExportError) as caught:
        to_nir(model.eval(), SAMPLE, DT, approximate=True)
    assert [issue.layer for issue in caught.value.issues] == ["2.layer"]
    assert "nothing to fold it into" in str(caught.value)


def test_a_layer_type_nir_lacks_is_named():
    model = nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3)), TimeDistributed(nn.ReLU()), LIF(tau=2.0))
    with pytest.raises(NIRExportError, match=r"1\.layer \(ReLU\): NIR has no node for this layer type"):
        to_nir(model, SAMPLE, DT)


def test_a_network_that_is_not_a_chain_is_refused_by_name():
    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = TimeDistributed(nn.Conv2d(2, 2, 3, padding=1))

        def forward(self, x):
            return x + self.body(x)

    with pytest.raises(ValueError, match=r"block \(Residual\) has layers of its own but is not a chain.*residual"):
        to_nir(nn.Sequential(OrderedDict(block=Residual())), SAMPLE, DT)


@pytest.mark.parametrize("sample, message", [
    (torch.zeros(2, 8), "sample must be an input tensor"),
    (torch.zeros(1, 1, 2, 8, 8, dtype=torch.int64), "sample must be float32 or float64"),
    ("frames", "sample must be an input tensor"),
    (torch.zeros(2, 8, 8), r"0\.layer \(Conv2d\) cannot run on a per-step input of shape \[8\]"),
])  # fmt: skip
def test_the_sample_must_be_a_float_sequence_the_model_takes(sample, message):
    with pytest.raises(ValueError, match=message):
        to_nir(nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3)), LIF(tau=2.0)), sample, DT)


def test_a_built_network_checks_the_sample_against_its_input_size():
    with pytest.raises(ValueError, match=r"tiny was built for input \[T, B, 2, 8, 8\]"):
        to_nir(tiny_plifnet(), torch.zeros(1, 1, 2, 16, 16), DT)


def _graph(*nodes: tuple[str, nir.NIRNode], edges=None) -> nir.NIRGraph:
    names = [name for name, _ in nodes]
    return nir.NIRGraph(nodes=dict(nodes), edges=edges or list(zip(names, names[1:])), type_check=False)


def test_from_nir_names_every_node_spikedyn_cannot_run():
    n = np.ones(3)
    graph = _graph(("input", nir.Input(np.array([3]))), ("integrator", nir.I(n)),
                   ("leaky", nir.LI(n, n, n * 0)), ("output", nir.Output(np.array([3]))))  # fmt: skip
    with pytest.raises(NIRImportError, match=r"integrator \(I\), leaky \(LI\)"):
        from_nir(graph)


def test_from_nir_refuses_recurrence():
    n = np.ones(3)
    graph = _graph(("input", nir.Input(np.array([3]))), ("lif", nir.LIF(n * 1e-3, n, n * 0, n, n * 0)),
                   ("rec", nir.Linear(np.eye(3))), ("output", nir.Output(np.array([3]))),
                   edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")])  # fmt: skip
    with pytest.raises(NIRImportError, match=r"recurrent edges among \['lif', 'output', 'rec'\]"):
        from_nir(graph)


def test_from_nir_sums_the_inputs_of_a_node_fed_twice():
    weight = np.arange(6.0).reshape(2, 3)
    graph = _graph(("input", nir.Input(np.array([3]))), ("a", nir.Linear(weight)), ("b", nir.Affine(weight, np.ones(2))),
                   ("if", nir.IF(np.ones(2), np.full(2, 100.0), np.zeros(2))), ("output", nir.Output(np.array([2]))),
                   edges=[("input", "a"), ("input", "b"), ("a", "if"), ("b", "if"), ("if", "output")])  # fmt: skip
    spikes = from_nir(graph)(torch.full((3, 1, 3), 10.0))  # V grows by 2 W x + 1 = (61, 241) per step
    assert spikes[:, 0, 0].tolist() == [0.0, 1.0, 0.0] and spikes[:, 0, 1].tolist() == [1.0, 1.0, 1.0]

"""CubaLIF, learned and per-neuron thresholds, and ALIF through NIR: exact round trips, one Euler step, refusal, approximation."""

from __future__ import annotations

import h5py
import nir
import numpy as np
import pytest
import torch
from torch import nn

from spikedyn.interop import ApproximationWarning, NIRExportError, export_graph, from_nir, to_nir, write_nir
from spikedyn.interop.modules import FixedCubaLIF, FixedIF, FixedLIF
from spikedyn.interop.neuron_mapping import DiscreteNeuron, from_nir_neuron, to_nir_neuron
from spikedyn.layers import TimeDistributed
from spikedyn.neurons import ALIF, IF, LIF, PLIF, CubaLIF
from spikedyn.neurons.parameters import broadcastable
from tests.interop.helpers import clear_input, cuba_net, dense_input, firing_rates, neuron_layers, spikes_by_layer, strengthen, trained
from tests.interop.nir_reference import run_nir

DT = 1e-4
SHAPE = (3, 4)


def _per_neuron(value: torch.Tensor | float, shape: tuple[int, ...]) -> torch.Tensor:
    """A quantity of a neuron (a number, or per layer, channel or neuron) as a float32 tensor of the layer's shape."""
    return broadcastable(torch.as_tensor(value).detach(), shape).expand(shape).to(torch.float32)


def _same_spikes(model: nn.Module, imported: nn.Module, x: torch.Tensor) -> None:
    expected, got = spikes_by_layer(model, x), spikes_by_layer(imported, x)
    assert all(0.0 < rate < 1.0 for rate in firing_rates(expected).values()), firing_rates(expected)
    for layer, spikes in expected.items():
        assert torch.equal(got[layer], spikes), f"layer {layer} spikes differently after the round trip"


def test_a_trained_cubalif_network_comes_back_from_a_nir_file_with_the_same_spikes(tmp_path):
    untrained = cuba_net()
    model = trained(cuba_net(), dense_input)
    assert not torch.equal(model[1].synaptic_logit, untrained[1].synaptic_logit)  # learned, not as drawn
    x = clear_input(model, dense_input)
    graph = to_nir(model, x, DT)
    assert [type(graph.nodes[name]).__name__ for name in ("1", "3")] == ["CubaLIF", "CubaLIF"]
    imported = from_nir(write_nir(graph, tmp_path / "cuba.nir"), DT)  # read back by spikedyn's bounded reader
    copies = neuron_layers(imported)
    assert all(type(copies[name]) is FixedCubaLIF for name in ("1", "3"))
    assert copies["1"].dynamics.decay_input and not copies["3"].dynamics.decay_input
    for name, original in neuron_layers(model).items():
        shape, ours, theirs = original.shape, original.quantities(), copies[name].quantities()
        for field in ("k", "synaptic_decay", "threshold"):  # every quantity to the last float32 bit
            assert torch.equal(_per_neuron(getattr(theirs, field), shape), _per_neuron(getattr(ours, field), shape)), (name, field)
    assert len(np.unique(copies["1"].synaptic_decay.numpy())) == 12  # one synaptic tau per neuron
    _same_spikes(model, imported, x)
    with torch.no_grad():
        assert torch.equal(imported(x), model(x))


@pytest.mark.parametrize("decay_input", [True, False])
def test_one_nir_cubalif_euler_step_is_one_spikedyn_step(decay_input):
    torch.manual_seed(0)
    neuron = CubaLIF(tau=3.0, tau_shape="neuron", tau_init="lognormal", tau_std=1.5, synaptic_tau=3.0, synaptic_shape="neuron",
                     shape=(5,), decay_input=decay_input, v_reset=-0.2, v_threshold=0.8).double()  # fmt: skip
    with torch.no_grad():
        neuron.synaptic_logit.add_(torch.randn(5, dtype=torch.float64))
    x = torch.rand(40, 4, 5, dtype=torch.float64) * (1.0 if decay_input else 0.5) - 0.1
    graph = to_nir(neuron, x, DT)
    node = graph.nodes["CubaLIF"]
    np.testing.assert_allclose(node.tau_syn, DT / (1 - neuron.quantities().synaptic_decay.detach().numpy()), rtol=1e-15)
    np.testing.assert_allclose(node.w_in, node.tau_syn / DT, rtol=1e-15)  # the input enters the current whole
    np.testing.assert_allclose(node.r, np.ones(5) if decay_input else node.tau_mem / DT, rtol=1e-15)
    with torch.no_grad():
        spikes = neuron(x)
    assert 0.05 < float(spikes.mean()) < 0.95
    assert torch.equal(run_nir(graph, x, DT)["output"], spikes)


@pytest.mark.parametrize("decay", [np.float32(0.3), np.float32(0.97), np.float32(1e-3)])
def test_the_synaptic_decay_comes_back_to_the_last_bit(decay):
    k = np.random.default_rng(0).uniform(0.05, 0.95, SHAPE).astype(np.float32)
    neuron = DiscreteNeuron(k, v_threshold=0.9, v_reset=0.0, synaptic_decay=np.full(SHAPE, decay))
    back = from_nir_neuron(to_nir_neuron(neuron, SHAPE, DT, np.dtype(np.float32)), "cuba", DT, np.dtype(np.float32))
    assert np.all(back.synaptic_decay.astype(np.float32) == decay) and np.array_equal(back.k.astype(np.float32), k)
    assert back.decay_input and back.input_gain is None


def _graph(neuron: nir.NIRNode, features: int) -> nir.NIRGraph:
    nodes = {"input": nir.Input(np.array([features])), "neuron": neuron, "output": nir.Output(np.array([features]))}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "neuron"), ("neuron", "output")])


def test_a_peers_cubalif_and_per_neuron_thresholds_run_as_nir_says():
    n = 6
    tau_syn, tau_mem = np.linspace(2, 5, n) * DT, np.linspace(3, 8, n) * DT
    thresholds = np.linspace(0.3, 0.8, n)
    w_in_one = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=np.ones(n), v_leak=np.zeros(n), v_threshold=thresholds)
    lif = nir.LIF(tau=tau_mem, r=np.ones(n), v_leak=np.zeros(n), v_threshold=thresholds, v_reset=np.zeros(n))
    x = torch.rand(30, 3, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2.0
    for node, kind in ((w_in_one, FixedCubaLIF), (lif, FixedLIF)):
        imported = from_nir(_graph(node, n), DT).double()
        neuron = next(m for m in imported.modules() if isinstance(m, kind))
        held = neuron.threshold_tensor.float().numpy()  # the least float32 above each v_threshold: H >= it <=> H > v_threshold
        assert np.all(held > thresholds) and np.all(np.nextafter(held, np.float32(-np.inf)) <= thresholds)
        with torch.no_grad():
            spikes = imported(x)
        assert 0.05 < float(spikes.mean()) < 0.95
        assert torch.equal(spikes, run_nir(_graph(node, n), x, DT)["output"])
    gain = next(m for m in from_nir(_graph(w_in_one, n), DT).modules() if hasattr(m, "gain")).gain
    torch.testing.assert_close(gain, torch.from_numpy(DT / tau_syn).float())  # w_in = 1: the input enters scaled by dt/tau_syn


def threshold_net(seed: int = 0) -> nn.Module:
    """Learned thresholds per neuron (IF, conv), per channel (PLIF, conv) and per layer (LIF)."""
    torch.manual_seed(seed)
    net = nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3, padding=1)), IF(threshold="neuron", shape=(3, 6, 6)),
                        TimeDistributed(nn.Conv2d(3, 4, 3, padding=1)), PLIF(tau=2.5, threshold="channel", shape=(4, 6, 6)),
                        TimeDistributed(nn.Flatten(), nn.Linear(144, 8)), LIF(tau=2.0, threshold="layer", v_threshold=0.6))  # fmt: skip
    with torch.no_grad():
        for neuron in (net[1], net[3]):
            neuron.threshold_param.add_(torch.randn_like(neuron.threshold_param) * 0.4)
    return strengthen(net)


def test_learned_thresholds_come_back_per_neuron_to_the_last_bit(tmp_path):
    model = trained(threshold_net(), lambda g: torch.rand(8, 3, 2, 6, 6, generator=g) * 2)
    x = clear_input(model, lambda g: torch.rand(8, 3, 2, 6, 6, generator=g) * 2)
    graph = to_nir(model, x, DT)
    imported = from_nir(write_nir(graph, tmp_path / "thresholds.nir"), DT)
    copies = neuron_layers(imported)
    assert type(copies["1"]) is FixedIF and type(copies["3"]) is FixedLIF and type(copies["5"]) is FixedLIF
    assert copies["5"].threshold_tensor is None  # one learned threshold for the layer: a plain number again
    for name, original in neuron_layers(model).items():
        theta = _per_neuron(original.threshold_value(), original.shape or (8,))
        written = np.asarray(graph.nodes[name].v_threshold, dtype=np.float32)
        assert np.array_equal(np.nextafter(written, np.float32(np.inf)), theta.numpy())  # just below theta, element by element
        assert torch.equal(_per_neuron(copies[name].threshold_value(), theta.shape), theta)
    _same_spikes(model, imported, x)


def alif_net() -> nn.Module:
    torch.manual_seed(0)
    alif = ALIF(tau=2.0, adaptation_tau=6.0, adaptation_strength=0.4, threshold="neuron", shape=(8,), v_threshold=0.7)
    with torch.no_grad():
        alif.threshold_param.add_(torch.randn(8) * 0.3)
    return strengthen(nn.Sequential(TimeDistributed(nn.Linear(10, 8)), alif))


def test_alif_is_refused_by_layer_name():
    with pytest.raises(NIRExportError) as caught:
        to_nir(alif_net(), torch.zeros(4, 1, 10), DT)
    message = str(caught.value)
    assert "1 (ALIF): an adaptive threshold" in message and "NIR has no adaptive-threshold neuron" in message
    assert "pass approximate=True" in message


def test_alif_is_approximated_on_request_as_a_lif_with_its_threshold_and_reported():
    model = alif_net()
    x = dense_input(torch.Generator().manual_seed(0))
    with pytest.warns(ApproximationWarning, match=r"1 \(ALIF\): an adaptive threshold"):
        export = export_graph(model, x, DT, approximate=True)
    assert len(export.approximations) == 1 and "a LIF with the fixed threshold theta" in export.approximations[0]
    assert export.graph.metadata["approximations"] == export.approximations[0]
    assert isinstance(export.graph.nodes["1"], nir.LIF)
    theta = model[1].effective()["threshold"].detach()
    lif = PLIF(tau=2.0, shape=(8,), threshold="neuron")  # what the approximation says: the same neuron without adaptation
    lif.load_state_dict({"tau_logit": model[1].tau_logit, "threshold_param": model[1].threshold_param})
    with torch.no_grad():
        expected, spikes = lif(model[0](x)), from_nir(export.graph, DT)(x)
        assert not torch.equal(model(x), expected)  # the adaptation mattered, and is gone
    assert 0.0 < float(expected.mean()) < 1.0
    assert torch.equal(spikes, expected) and torch.equal(neuron_layers(from_nir(export.graph, DT))["1"].threshold_tensor, theta)


def test_a_cubalif_file_without_w_in_reads_as_nirs_default(tmp_path):
    n = np.ones(3)
    path = write_nir(_graph(nir.CubaLIF(tau_syn=n * 2 * DT, tau_mem=n * 4 * DT, r=n, v_leak=n * 0, v_threshold=n, w_in=n * 2), 3), tmp_path / "c.nir")
    with h5py.File(path, "r+") as file:
        del file["node/nodes/neuron/w_in"]
    gain = next(m for m in from_nir(path, DT).modules() if hasattr(m, "gain")).gain
    assert torch.equal(gain, torch.full((3,), 0.5))  # w_in = 1: dt/tau_syn = 1/2

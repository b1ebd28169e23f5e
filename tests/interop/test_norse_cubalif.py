"""CubaLIF verified against Norse 1.1 both ways: spikedyn's export runs in Norse, Norse's LIFCell export runs in spikedyn.

Norse's conventions for current-based neurons (read in norse/torch/utils/{export,import}_nir.py
and functional/lif.py, and checked here):
- Its LIFCell (its LIF is the same step over a sequence) is spikedyn's CubaLIF with
  decay_input=True, k = dt tau_mem_inv, 1/tau_s = dt tau_syn_inv, in the same order: the input
  jumps into the current, the membrane charges from the new current, then the current decays.
- Its to_nir writes a LIFCell as nir.CubaLIF with tau = dt / tau_inv (dt times its time constant,
  as for its LIF: read with dt^2, or dt = 1) and w_in left at NIR's default 1, where the
  LIFCell adds its input to the current whole: read as NIR says, the graph scales the input by
  dt / tau_syn. Norse's own from_nir reads it that way too (w_in x into a leaky integrator of
  tau_syn), so Norse's export does not run as the LIFCell it came from, in Norse or here; with
  w_in = tau_syn / dt, what NIR needs for "the input enters whole", it runs here spike for spike.
- Its from_nir runs a CubaLIF as w_in x -> leaky integrator (tau_syn, leaking towards the
  membrane's v_leak) -> r I -> LIF, the order of spikedyn's mapping; it ignores v_reset (0).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from spikedyn.interop import from_nir, to_nir
from tests.interop.helpers import clear_input, cuba_net, dense_input, firing_rates, spikes_by_layer, strengthen, trained
from tests.interop.norse_runs import norse_layers, norse_nodes

pytestmark = [pytest.mark.oracle, pytest.mark.filterwarnings("ignore:nirtorch.*is being deprecated:DeprecationWarning")]
norse = pytest.importorskip("norse.torch", reason="norse 1.1.0 is not installed (scripts/setup.sh installs it)")

DT = 1e-4


def test_norse_runs_an_exported_cubalif_network_with_the_same_spikes_in_every_layer():
    model = trained(cuba_net(), dense_input)
    x = clear_input(model, dense_input)  # Norse computes dt * (1 / tau) and w_in x where spikedyn has k and x: a few ulps apart
    nodes = norse_nodes(norse.from_nir(to_nir(model, x, DT), dt=DT), x)
    expected = spikes_by_layer(model, x)
    assert set(expected) == {"1", "3"} and all(0.0 < rate < 1.0 for rate in firing_rates(expected).values()), firing_rates(expected)
    for layer, spikes in expected.items():
        assert torch.equal(nodes[layer], spikes), f"Norse's {layer} spikes differently"


def _norse_cell(features: int, dt: float, inverse: tuple[float, float], generator: torch.Generator) -> torch.nn.Module:
    """A Norse LIFCell with one membrane and one synaptic time constant and threshold per neuron."""
    low, high = inverse
    draw = lambda: torch.rand(features, generator=generator) * (high - low) + low  # noqa: E731
    p = norse.LIFParameters(tau_mem_inv=draw(), tau_syn_inv=draw(), v_th=torch.rand(features, generator=generator) * 0.4 + 0.3,
                            v_leak=torch.zeros(features), v_reset=torch.zeros(features))  # fmt: skip
    return norse.LIFCell(p, dt=dt)


def norse_cuba_network(dt: float, inverse: tuple[float, float]) -> torch.nn.Module:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    return strengthen(norse.SequentialState(torch.nn.Linear(10, 12), _norse_cell(12, dt, inverse, generator),
                                            torch.nn.Linear(12, 6), _norse_cell(6, dt, inverse, generator)), 2.0)  # fmt: skip


def test_norse_reads_its_own_cubalif_export_as_spikedyn_does_and_not_as_its_lifcell_ran():
    peer = norse_cuba_network(dt=1.0, inverse=(0.2, 0.8))
    graph = norse.to_nir(peer, torch.zeros(1, 10), dt=1.0)
    assert all(np.all(np.asarray(graph.nodes[name].w_in) == 1.0) for name in ("1", "3"))
    imported = from_nir(graph, dt=1.0)  # each CubaLIF behind an input gain dt/tau_syn: layers "1_1" and "3_1"
    x = clear_input(imported, lambda g: dense_input(g) * 3)
    ours = {name.removesuffix("_1"): spikes for name, spikes in spikes_by_layer(imported, x).items()}
    norse_reading = norse_nodes(norse.from_nir(graph, dt=1.0), x)
    assert set(ours) == {"1", "3"} and all(0.0 < rate < 1.0 for rate in firing_rates(ours).values()), firing_rates(ours)
    for layer, spikes in ours.items():
        assert torch.equal(norse_reading[layer], spikes), f"layer {layer}: spikedyn and Norse read the graph differently"
    assert not torch.equal(norse_layers(peer, x)["3"], ours["3"])  # w_in = 1 is not what the LIFCell computed


@pytest.mark.parametrize("dt", [1.0, 1e-3])
def test_a_norse_lifcell_export_runs_in_spikedyn_spike_for_spike_once_w_in_says_the_input_enters_whole(dt):
    peer = norse_cuba_network(dt=dt, inverse=(0.2 / dt, 0.8 / dt))  # k and 1/tau_s from 0.2 to 0.8
    graph = copy.deepcopy(norse.to_nir(peer, torch.zeros(1, 10), dt=dt))
    read_dt = dt**2  # Norse writes tau = dt / tau_inv: dt times its time constant
    for name in ("1", "3"):
        graph.nodes[name].w_in = np.asarray(graph.nodes[name].tau_syn, dtype=np.float64) / read_dt
    imported = from_nir(graph, dt=read_dt)
    x = clear_input(imported, dense_input)
    expected, got = norse_layers(peer, x), spikes_by_layer(imported, x)
    assert all(0.0 < float(expected[layer].mean()) < 1.0 for layer in ("1", "3"))
    for layer in ("1", "3"):
        assert torch.equal(got[layer], expected[layer]), f"layer {layer} spikes differently from Norse's LIFCell"

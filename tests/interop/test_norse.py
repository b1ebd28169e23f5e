"""Verified against a real client, Norse 1.1: its importer runs spikedyn's export, and its exports run in spikedyn.

Convention differences met on the way (see spikedyn.interop and docs/tutorials/nir-norse.md):
- Norse runs NIR graphs batched, and its Flatten takes NIR's start_dim as is, which counts no
  batch dimension: a graph with a Flatten must be fed one sample at a time ([C, H, W] per step).
- Norse's LIF reads tau_mem_inv = 1/tau and steps v += dt tau_mem_inv (v_leak - v + I) with its
  own dt, which is spikedyn's mapping for r = 1 (decay_input=True); it ignores r and v_reset.
- Norse's to_nir writes tau = dt / tau_mem_inv (dt times the time constant), so its graphs run
  as Norse ran them only when read with dt^2, or with dt = 1 where both agree.
- Norse's IF is v += I per step (r = 1), as spikedyn's; it fires where v > v_th, strictly, as NIR says.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikedyn.interop import from_nir, to_nir
from tests.interop.helpers import clear_input, event_frames, firing_rates, spikes_by_layer, strengthen, threshold_margin, trained_tiny_plifnet
from tests.interop.norse_runs import run_norse, run_norse_per_sample

pytestmark = [pytest.mark.oracle, pytest.mark.filterwarnings("ignore:nirtorch.*is being deprecated:DeprecationWarning")]
norse = pytest.importorskip("norse.torch", reason="norse 1.1.0 is not installed (scripts/setup.sh installs it)")
from norse.torch.functional.iaf import IAFParameters  # noqa: E402
from norse.torch.module.iaf import IAFCell  # noqa: E402
from norse.torch.module.lif_box import LIFBoxCell, LIFBoxParameters  # noqa: E402

DT = 1e-4


def test_norse_runs_the_exported_plifnet_with_the_same_spikes(tmp_path):
    import nir

    from spikedyn.interop import write_nir

    model = trained_tiny_plifnet()
    x = clear_input(model, event_frames)  # Norse computes dt * (1 / tau) where spikedyn has k: equal to a few ulps
    graph = nir.read(write_nir(to_nir(model, x, DT), tmp_path / "tiny.nir"))
    nodes = run_norse_per_sample(norse.from_nir(graph, dt=DT), x)
    expected = spikes_by_layer(model, x)
    assert all(0.0 < rate < 1.0 for rate in firing_rates(expected).values()), firing_rates(expected)
    for layer, spikes in expected.items():
        assert torch.equal(nodes[layer], spikes), f"Norse's {layer} spikes differently"
    for pool, before in (("features_2_layer_threshold", "features_1"), ("features_5_layer_threshold", "features_4")):
        max_pooled = torch.nn.functional.max_pool2d(nodes[before].flatten(0, 1), 2).unflatten(0, x.shape[:2])
        assert torch.equal(nodes[pool], max_pooled)  # spike max-pooling, as Norse runs SumPool2d (LPPool2d, p=1) then IF
    with torch.no_grad():
        torch.testing.assert_close(nodes["classifier_7"], model(x), rtol=1e-6, atol=1e-6)


def _norse_lif(shape: tuple[int, ...], dt: float, inverse_tau: tuple[float, float]) -> LIFBoxCell:
    low, high = inverse_tau
    inverse = torch.rand(shape) * (high - low) + low  # one time constant per neuron
    return LIFBoxCell(LIFBoxParameters(tau_mem_inv=inverse, v_th=torch.full(shape, 0.5), v_leak=torch.zeros(shape)), dt=dt)


def norse_network(kind: str, dt: float, inverse_tau: tuple[float, float]) -> torch.nn.Module:
    """A Norse network with per-neuron tau: convolutional (ending in an IF layer) or dense."""
    torch.manual_seed(0)
    if kind == "conv":
        return strengthen(norse.SequentialState(torch.nn.Conv2d(2, 4, 3, padding=1), _norse_lif((4, 8, 8), dt, inverse_tau),
                                     torch.nn.Conv2d(4, 3, 3, padding=1), IAFCell(IAFParameters(v_th=torch.full((3, 8, 8), 0.8)))))  # fmt: skip
    return strengthen(norse.SequentialState(torch.nn.Linear(10, 12), _norse_lif((12,), dt, inverse_tau), torch.nn.Linear(12, 5),
                                            _norse_lif((5,), dt, inverse_tau)))  # fmt: skip


def _input(kind: str, generator: torch.Generator) -> torch.Tensor:
    shape = (2, 8, 8) if kind == "conv" else (10,)
    return torch.rand(12, 3, *shape, generator=generator) * 2


@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_a_norse_export_runs_in_spikedyn_with_the_same_spikes(kind):
    peer = norse_network(kind, dt=1.0, inverse_tau=(0.1, 0.9))
    graph = norse.to_nir(peer, _input(kind, torch.Generator())[0, :1], dt=1.0)
    imported = from_nir(graph, dt=1.0)
    x = clear_input(imported, lambda g: _input(kind, g))
    expected = run_norse(peer, x)
    assert 0.0 < float(expected.mean()) < 1.0
    with torch.no_grad():
        assert torch.equal(imported(x), expected)
    assert threshold_margin(imported, x) > 1e-4


def test_norse_writes_tau_as_dt_times_its_time_constant():
    dt = 1e-3
    peer = norse_network("dense", dt=dt, inverse_tau=(100.0, 500.0))  # tau from 2 to 10 ms
    graph = norse.to_nir(peer, torch.zeros(1, 10), dt=dt)
    with pytest.raises(ValueError, match="is dt the one the graph was exported with"):
        from_nir(graph, dt=dt)  # its tau of 2e-6 to 1e-5 "seconds" is below one step: refused, not run wrongly
    imported = from_nir(graph, dt=dt**2)
    x = clear_input(imported, lambda g: _input("dense", g))
    with torch.no_grad():
        assert torch.equal(imported(x), run_norse(peer, x))
    assert np.allclose(np.asarray(graph.nodes["1"].tau), dt / peer[1].p.tau_mem_inv.numpy())

"""A trained PLIF net with per-neuron tau: spikedyn -> NIR file -> spikedyn gives the same spikes."""

from __future__ import annotations

import nir
import numpy as np
import torch

from spikedyn.interop import from_nir, to_nir, write_nir
from spikedyn.interop.modules import FixedLIF
from tests.interop.helpers import clear_input, event_frames, firing_rates, spikes_by_layer, tiny_plifnet, trained_tiny_plifnet

DT = 1e-4


def test_to_nir_then_from_nir_gives_the_same_spikes_for_per_neuron_tau(tmp_path):
    model = trained_tiny_plifnet()
    x = clear_input(model, event_frames)
    graph = nir.read(write_nir(to_nir(model, x, DT), tmp_path / "tiny.nir"))
    imported = from_nir(graph, DT)
    lifs = [m for m in imported.modules() if isinstance(m, FixedLIF)]
    assert len(lifs) == 4 and all(len(np.unique(m.k.numpy())) == m.k.numel() for m in lifs)  # every neuron its own tau
    assert not torch.equal(model.features[1].tau_logit, tiny_plifnet().features[1].tau_logit)  # learned, not as drawn
    expected = spikes_by_layer(model, x)
    got = spikes_by_layer(imported, x)
    assert all(0.0 < rate < 1.0 for rate in firing_rates(expected).values()), firing_rates(expected)
    for layer, spikes in expected.items():
        assert torch.equal(got[layer], spikes), f"layer {layer} spikes differently after the round trip"
    with torch.no_grad():
        torch.testing.assert_close(imported(x), model(x), rtol=1e-6, atol=1e-6)

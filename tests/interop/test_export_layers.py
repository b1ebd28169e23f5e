"""Each exported layer against the module itself: the NIR graph, read literally, gives the same spikes."""

from __future__ import annotations

from functools import partial

import nir
import numpy as np
import pytest
import torch
from torch import nn

from spikedyn.interop import from_nir, to_nir
from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d, TemporalDropout, TemporalEffectiveBatchNorm2d, TimeDistributed, VotingLayer
from spikedyn.neurons import IF, LIF, PLIF
from tests.interop.helpers import clear_input, firing_rates, per_neuron_plif, randomise_batch_norm, spikes_by_layer, strengthen, tiny_plifnet
from tests.interop.nir_reference import run_nir

DT = 1e-3


def conv_bn_channel_plif() -> nn.Module:
    return nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3)),
                         PLIF(tau_shape="channel", shape=(3, 8, 8), tau_init="lognormal", tau=4.0, tau_std=2.0))  # fmt: skip


def linear_bn_lif_not_decayed() -> nn.Module:
    return nn.Sequential(TimeDistributed(nn.Flatten(), nn.Linear(128, 12), nn.BatchNorm1d(12)), LIF(tau=3.0, decay_input=False))


def strided_if_avg_pool_layer_plif() -> nn.Module:
    return nn.Sequential(TimeDistributed(nn.Conv2d(2, 4, 3, stride=2, bias=False)), IF(v_threshold=0.5), SpikeAvgPool2d(3, 1),
                         TimeDistributed(nn.Flatten()), TimeDistributed(nn.Linear(4, 6)), PLIF(tau=2.5, v_reset=-0.2, v_threshold=0.3))  # fmt: skip


def max_pool_dropout_voting() -> nn.Module:
    return nn.Sequential(TimeDistributed(nn.Conv2d(2, 4, 3, padding=1)), PLIF(tau_shape="neuron", shape=(4, 8, 8), v_threshold=0.5),
                         SpikeMaxPool2d(2), TimeDistributed(nn.Flatten()), TemporalDropout(0.5), TimeDistributed(nn.Linear(64, 6)),
                         PLIF(tau_shape="neuron", shape=(6,), tau_init="lognormal", tau=2.0, tau_std=1.0, v_threshold=0.3), VotingLayer(3))  # fmt: skip


def tebn_with_one_scale() -> nn.Module:
    tebn = TemporalEffectiveBatchNorm2d(3, time_steps=6)
    with torch.no_grad():
        tebn.time_scale.fill_(1.7)  # the same at every step: exactly a batch norm scaled by 1.7
    return nn.Sequential(TimeDistributed(nn.Conv2d(2, 3, 3, padding=1)), tebn, LIF(tau=2.0))


MODELS = {
    "conv_bn_channel_plif": conv_bn_channel_plif,
    "linear_bn_lif_not_decayed": linear_bn_lif_not_decayed,
    "strided_if_avg_pool_layer_plif": strided_if_avg_pool_layer_plif,
    "max_pool_dropout_voting": max_pool_dropout_voting,
    "tebn_with_one_scale": tebn_with_one_scale,
    "plifnet_max_pooling": lambda: tiny_plifnet(),
    "plifnet_avg_pooling_static_encoder": lambda: tiny_plifnet(partial(per_neuron_plif, v_threshold=0.5), pooling="avg", static_encoder=True, time_steps=6),
}


def _frames(name: str, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """Random frames [T=6, B=3, 2, 8, 8]; one image repeated over the steps for the static encoder."""
    steps = 1 if "static" in name else 6
    return (torch.rand(steps, 3, 2, 8, 8, generator=generator, dtype=dtype) * 1.5).expand(6, 3, 2, 8, 8)


def _build(name: str) -> nn.Module:
    torch.manual_seed(1)
    model = MODELS[name]()
    return model if name.startswith("plifnet") else strengthen(randomise_batch_norm(model)).eval()  # the toy PLIF nets come ready


@pytest.mark.parametrize("name", MODELS)
def test_the_graph_read_literally_gives_the_same_spikes(name):
    model = _build(name).double()
    x = _frames(name, torch.Generator().manual_seed(0))
    graph = to_nir(model, x, DT)
    nodes = run_nir(graph, x, DT)
    spikes = spikes_by_layer(model, x)
    assert all(0.0 < rate < 1.0 for rate in firing_rates(spikes).values()), firing_rates(spikes)
    for layer, s in spikes.items():
        assert torch.equal(nodes[layer], s), f"{name}: layer {layer} spikes differently"
    with torch.no_grad():
        torch.testing.assert_close(nodes["output"], model(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_from_nir_runs_the_exported_graph_with_the_same_spikes(name):
    model = _build(name)
    x = clear_input(model, lambda g: _frames(name, g, torch.float32))  # BN folded: the same up to float32 rounding
    imported = from_nir(to_nir(model, x, DT), DT)
    with torch.no_grad():
        expected, got = model(x), imported(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    for layer, s in spikes_by_layer(model, x).items():
        assert torch.equal(imported.layers[layer](_input_of(imported, layer, x)), s)


def _input_of(network, layer: str, x: torch.Tensor) -> torch.Tensor:
    """What the imported network feeds its node ``layer`` (its single predecessor's output)."""
    values = {network.input: x}
    for name in network.order[1:]:
        incoming = values[network.inputs[name][0]]
        if name == layer:
            return incoming
        values[name] = network.layers[name](incoming) if name in network.layers else incoming
    raise KeyError(layer)


def test_batch_norm_is_folded_into_the_conv_exactly():
    model = _build("conv_bn_channel_plif").double()
    graph = to_nir(model, torch.zeros(1, 1, 2, 8, 8, dtype=torch.float64), DT)
    assert [type(n).__name__ for n in graph.nodes.values()] == ["Input", "Conv2d", "LIF", "Output"]
    x = torch.randn(7, 2, 8, 8, dtype=torch.float64)
    conv = graph.nodes["0_layer_0"]
    folded = torch.nn.functional.conv2d(x, torch.from_numpy(conv.weight), torch.from_numpy(conv.bias), padding=1)
    with torch.no_grad():
        torch.testing.assert_close(folded, model[0].layer(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("tau_shape", ["layer", "channel", "neuron"])
def test_tau_is_written_per_neuron_and_keeps_its_heterogeneity(tau_shape):
    torch.manual_seed(0)
    neuron = PLIF(tau_shape=tau_shape, shape=(3, 4, 4), tau_init="constant" if tau_shape == "layer" else "lognormal", tau=2.0, tau_std=1.0)
    graph = to_nir(nn.Sequential(neuron), torch.zeros(1, 1, 3, 4, 4), dt=DT)
    lif = graph.nodes["0"]
    k = torch.sigmoid(neuron.tau_logit.detach()).double()  # the k the backends use, in the model's float32
    expected = np.broadcast_to(DT / (k.numpy() if k.dim() != 1 else k.numpy()[:, None, None]), (3, 4, 4))
    assert lif.tau.shape == (3, 4, 4) and np.array_equal(lif.tau, expected)
    assert len(np.unique(lif.tau)) == {"layer": 1, "channel": 3, "neuron": 48}[tau_shape]


def test_spike_max_pooling_is_sum_pooling_then_a_threshold_at_one_spike():
    model = _build("max_pool_dropout_voting")
    graph = to_nir(model, torch.zeros(1, 1, 2, 8, 8), DT)
    names = list(graph.nodes)
    pool, threshold = graph.nodes["2_layer"], graph.nodes["2_layer_threshold"]
    assert isinstance(pool, nir.SumPool2d) and isinstance(threshold, nir.IF)
    assert names.index("2_layer_threshold") == names.index("2_layer") + 1
    assert np.all(threshold.r == 1) and np.all((threshold.v_threshold > 0) & (threshold.v_threshold < 1))
    assert "4" not in graph.nodes  # the TemporalDropout is left out
    voting = graph.nodes["7"]
    assert isinstance(voting, nir.Linear) and voting.weight.shape == (2, 6) and np.allclose(voting.weight.sum(1), 1.0)


def test_the_file_round_trip_keeps_every_array_and_the_metadata(tmp_path):
    from spikedyn.interop import write_nir

    model = _build("max_pool_dropout_voting")
    graph = to_nir(model, torch.zeros(1, 1, 2, 8, 8), DT)
    back = nir.read(write_nir(graph, tmp_path / "net.nir"))
    assert set(back.nodes) == set(graph.nodes) and set(back.edges) == set(graph.edges)
    assert np.array_equal(back.nodes["1"].tau, graph.nodes["1"].tau)
    assert back.metadata["dt"] == DT and "spikedyn" in str(back.metadata["generator"])
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed

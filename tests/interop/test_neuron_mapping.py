"""The discrete <-> continuous neuron mapping: formulas, round trips, one Euler step, strict thresholds."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch

from spikedyn.interop import from_nir, to_nir
from spikedyn.interop.neuron_mapping import DiscreteNeuron, check_dt, from_nir_neuron, to_nir_neuron
from spikedyn.neurons import IF, LIF, PLIF
from tests.interop.nir_reference import run_nir

DT = 1e-4
SHAPE = (3, 4)


def _k(dtype) -> np.ndarray:
    return np.random.default_rng(0).uniform(0.05, 0.95, SHAPE).astype(dtype)


@pytest.mark.parametrize("decay_input", [True, False])
def test_lif_parameters_follow_the_euler_step(decay_input):
    k = _k(np.float32)
    node = to_nir_neuron(DiscreteNeuron(k, v_threshold=1.0, v_reset=-0.25, decay_input=decay_input), SHAPE, DT, np.dtype(np.float32))
    assert isinstance(node, nir.LIF)
    np.testing.assert_allclose(node.tau, DT / k.astype(np.float64), rtol=1e-15)
    np.testing.assert_allclose(node.r, np.ones(SHAPE) if decay_input else node.tau / DT, rtol=1e-15)
    assert np.all(node.v_leak == -0.25) and np.all(node.v_reset == -0.25)
    threshold = np.float32(node.v_threshold[0, 0])  # the float32 just below 1: v > it <=> v >= 1
    assert threshold < 1.0 and np.nextafter(threshold, np.float32(2)) == np.float32(1.0)
    assert all(np.asarray(a).shape == SHAPE for a in (node.tau, node.r, node.v_leak, node.v_threshold, node.v_reset))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("decay_input", [True, False])
def test_lif_round_trip_gives_back_k_to_the_last_bit(dtype, decay_input):
    k = _k(dtype)
    original = DiscreteNeuron(k, v_threshold=0.7, v_reset=-0.1, decay_input=decay_input)
    back = from_nir_neuron(to_nir_neuron(original, SHAPE, DT, np.dtype(dtype)), "lif", DT, np.dtype(dtype))
    assert np.array_equal(back.k.astype(dtype), k) if dtype is np.float32 else np.allclose(back.k, k, rtol=1e-15, atol=0)
    assert back.decay_input is decay_input and back.input_gain is None
    assert back.v_threshold == float(np.asarray(0.7, dtype)) and back.v_reset == -0.1


def test_if_round_trip_and_its_per_step_gain():
    node = to_nir_neuron(DiscreteNeuron(None, v_threshold=1.5, v_reset=0.0), SHAPE, DT, np.dtype(np.float32))
    assert isinstance(node, nir.IF) and np.all(node.r == 1.0)  # r = 1: v += I per step, as Norse and snnTorch read it
    back = from_nir_neuron(node, "if", DT, np.dtype(np.float32))
    assert back.k is None and back.v_threshold == 1.5 and back.input_gain is None
    gained = nir.IF(r=np.full(SHAPE, 2.0), v_threshold=np.ones(SHAPE), v_reset=np.zeros(SHAPE))
    assert np.all(from_nir_neuron(gained, "if", DT, np.dtype(np.float32)).input_gain == 2.0)


def test_an_r_that_neither_convention_explains_becomes_an_input_gain():
    node = nir.LIF(tau=np.full(SHAPE, 4 * DT), r=np.full(SHAPE, 3.0), v_leak=np.zeros(SHAPE), v_threshold=np.ones(SHAPE), v_reset=np.zeros(SHAPE))
    neuron = from_nir_neuron(node, "lif", DT, np.dtype(np.float32))
    assert neuron.decay_input and np.allclose(neuron.k, 0.25) and np.all(neuron.input_gain == 3.0)


@pytest.mark.parametrize("make", [
    lambda: PLIF(tau_shape="neuron", tau_init="lognormal", tau=3.0, tau_std=2.0, shape=(5,), v_reset=-0.2, v_threshold=0.8),
    lambda: PLIF(tau_shape="neuron", tau_init="lognormal", tau=3.0, tau_std=2.0, shape=(5,), decay_input=False),
    lambda: LIF(tau=1.5, v_threshold=0.6),
    lambda: IF(v_threshold=0.9, v_reset=-0.5),
], ids=["plif_decay_input", "plif_input_not_decayed", "lif", "if"])
def test_one_nir_euler_step_is_one_spikedyn_step(make):
    torch.manual_seed(0)
    neuron = make().double()
    x = torch.rand(40, 4, 5, dtype=torch.float64) * 2.4 - 0.4
    graph = to_nir(neuron, x, DT)
    reference = run_nir(graph, x, DT)["output"]
    with torch.no_grad():
        spikes = neuron(x)
    assert 0.05 < float(spikes.mean()) < 0.95
    assert torch.equal(reference, spikes)


def test_thresholds_keep_spikedyn_firing_at_equality_and_nir_firing_above():
    exactly_one = torch.full((2, 1, 2), 0.5)  # IF: H = 0.5, then 1.0 = V_th: spikedyn fires at t = 1
    neuron = IF(v_threshold=1.0)
    graph = to_nir(neuron, exactly_one, DT)
    assert torch.equal(run_nir(graph, exactly_one, DT)["output"], neuron(exactly_one))
    assert neuron(exactly_one)[:, 0, 0].tolist() == [0.0, 1.0]
    at_one = nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2))  # NIR: fires only above 1
    peer = nir.NIRGraph(nodes={"input": nir.Input(np.array([2])), "if": at_one, "output": nir.Output(np.array([2]))},
                        edges=[("input", "if"), ("if", "output")])  # fmt: skip
    assert from_nir(peer)(exactly_one).sum() == 0 and run_nir(peer, exactly_one, DT)["output"].sum() == 0


def test_what_a_spikedyn_neuron_cannot_hold_is_refused_by_node_name():
    ones, zeros = np.ones(SHAPE), np.zeros(SHAPE)
    varied = nir.LIF(tau=ones * DT * 2, r=ones, v_leak=zeros, v_threshold=ones, v_reset=np.linspace(-0.5, 0, 12).reshape(SHAPE))
    with pytest.raises(ValueError, match=r"'conv1_lif'.*v_reset takes 12 different values.*one reset potential"):
        from_nir_neuron(varied, "conv1_lif", DT, np.dtype(np.float32))
    leaky = nir.LIF(tau=ones * DT * 2, r=ones, v_leak=ones * 0.3, v_threshold=ones, v_reset=zeros)
    with pytest.raises(ValueError, match=r"'l'.*v_leak .* differs from v_reset.*leaks towards its reset"):
        from_nir_neuron(leaky, "l", DT, np.dtype(np.float32))
    fast = nir.LIF(tau=ones * DT / 2, r=ones, v_leak=zeros, v_threshold=ones, v_reset=zeros)
    with pytest.raises(ValueError, match=r"'l'.*tau must be .* at least dt.*is dt the one the graph was exported with"):
        from_nir_neuron(fast, "l", DT, np.dtype(np.float32))


@pytest.mark.parametrize("dt", [0, -1e-3, float("nan"), float("inf"), "1e-4", True])
def test_dt_must_be_a_positive_number(dt):
    with pytest.raises(ValueError, match="dt"):
        check_dt(dt)

"""The dynamics against closed forms worked out by hand from the equations in ARCHITECTURE.md."""

from __future__ import annotations

import math

import pytest
import torch

from spikedyn.neurons import IF, LIF, PLIF, use_backend

BACKENDS = ["reference", "fused"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    with use_backend(request.param):
        yield request.param


@pytest.mark.parametrize("tau", [1.5, 2.0, 16.0])
def test_lif_with_constant_input_follows_the_closed_form_until_it_fires(backend, tau):
    # PLIF Eq. (1) discretised with decay_input: V_t = V_{t-1} + (I - V_{t-1}) / tau from V = 0,
    # so H_t = I (1 - (1 - 1/tau)^(t+1)); it first fires when that reaches V_th.
    current, steps = 1.3, 40
    _, h = LIF(tau, shape=(1,)).double()(torch.full((steps, 1, 1), current, dtype=torch.float64), return_v=True)
    t = torch.arange(steps, dtype=torch.float64)
    closed = current * (1 - (1 - 1 / tau) ** (t + 1))
    first_spike = int(math.ceil(math.log(1 - 1 / current) / math.log(1 - 1 / tau) - 1))
    torch.testing.assert_close(h[: first_spike + 1, 0, 0], closed[: first_spike + 1], rtol=1e-12, atol=1e-12)
    assert h[first_spike, 0, 0] >= 1.0 > h[first_spike - 1, 0, 0]


@pytest.mark.parametrize("decay_input,limit", [(True, lambda i, tau: i), (False, lambda i, tau: tau * i)])
def test_membrane_potential_settles_at_the_steady_state(backend, decay_input, limit):
    # Below threshold, V(inf) = w I with the decayed input and tau w I without it.
    tau, current = 4.0, 0.2
    neuron = LIF(tau, shape=(1,), decay_input=decay_input, v_threshold=100.0).double()
    _, h = neuron(torch.full((400, 1, 1), current, dtype=torch.float64), return_v=True)
    assert h[-1].item() == pytest.approx(limit(current, tau), rel=1e-9)


def test_hard_and_soft_reset_follow_their_equations(backend):
    x = torch.tensor([0.6, 0.6, 0.6, 1.7, 0.0], dtype=torch.float64).view(5, 1, 1)
    # IF, V_th = 1: H = V + X. Hard: V = 0 after a spike. Soft: V = H - 1 after a spike.
    spikes, h = IF(shape=(1,))(x, return_v=True)
    assert h.flatten().tolist() == pytest.approx([0.6, 1.2, 0.6, 2.3, 0.0])
    assert spikes.flatten().tolist() == [0, 1, 0, 1, 0]
    spikes, h = IF(shape=(1,), v_reset=None)(x, return_v=True)
    assert h.flatten().tolist() == pytest.approx([0.6, 1.2, 0.8, 2.5, 1.5])
    assert spikes.flatten().tolist() == [0, 1, 0, 1, 1]


def test_hard_reset_goes_to_v_reset(backend):
    x = torch.tensor([1.5, 0.0], dtype=torch.float64).view(2, 1, 1)
    _, h = IF(shape=(1,), v_reset=-0.3)(x, return_v=True)
    # V_{-1} = V_reset = -0.3, H_0 = 1.2 fires, V_0 = -0.3, H_1 = -0.3.
    assert h.flatten().tolist() == pytest.approx([1.2, -0.3])


def test_imp_is_the_initial_potential(backend):
    neuron = IF(shape=(3,), imp="neuron")
    with torch.no_grad():
        neuron.imp.copy_(torch.tensor([0.9, -0.5, 0.0]))
    spikes, h = neuron(torch.full((1, 2, 3), 0.2), return_v=True)
    assert h[0, 0].tolist() == pytest.approx([1.1, -0.3, 0.2])
    assert spikes[0, 1].tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("a", [-30.0, -5.0, -1.0, 0.0, 1.0, 5.0, 15.0])
def test_plif_tau_stays_above_one_for_any_logit(a):
    neuron = PLIF(shape=(1,))
    with torch.no_grad():
        neuron.tau_logit.fill_(a)
    tau = neuron.tau.double()
    assert 1.0 < tau.item() < math.inf
    assert tau.item() == pytest.approx(1 / torch.sigmoid(torch.tensor(a, dtype=torch.float64)).item())


@pytest.mark.parametrize("tau", [1.01, 2.0, 16.0, 1000.0])
def test_plif_initial_tau_is_tau0(tau):
    neuron = PLIF(tau, shape=(4,), tau_shape="neuron")
    torch.testing.assert_close(neuron.tau, torch.full((4,), tau), rtol=1e-5, atol=0)


def test_lognormal_tau_has_the_requested_mean_and_spread_and_stays_above_one():
    torch.manual_seed(0)
    neuron = PLIF(2.0, shape=(64, 32, 32), tau_shape="neuron", tau_init="lognormal", tau_std=0.5)
    tau = neuron.tau.double()
    assert tau.min() > 1.0
    assert tau.mean().item() == pytest.approx(2.0, rel=0.01)
    assert tau.std().item() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("tau_shape,expected", [("layer", ()), ("channel", (4,)), ("neuron", (4, 3, 3))])
def test_tau_parameter_has_the_shape_of_its_tau_shape(tau_shape, expected):
    neuron = PLIF(shape=(4, 3, 3), tau_shape=tau_shape)
    assert tuple(neuron.tau_logit.shape) == expected
    assert tuple(neuron.tau.shape) == expected


def test_per_channel_tau_is_shared_across_positions():
    neuron = PLIF(shape=(2, 3), tau_shape="channel", v_threshold=100.0)
    with torch.no_grad():
        neuron.tau_logit.copy_(torch.tensor([0.0, 2.0]))
    _, h = neuron(torch.ones(2, 1, 2, 3), return_v=True)
    # H_1 = k + k (1 - k) with k = sigmoid(a) of the row's channel.
    for c, a in enumerate([0.0, 2.0]):
        k = 1 / (1 + math.exp(-a))
        assert h[1, 0, c].tolist() == pytest.approx([k + k * (1 - k)] * 3, rel=1e-6)

"""Learned threshold, ALIF and CubaLIF match a literal per-step loop of their equations, on every backend and option.

The loop below is written out here, independently of spikedyn.neurons.dynamics: spikes must
match exactly, gradients of every parameter, the input and the IMP within 1e-5.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from spikedyn.neurons import ALIF, IF, LIF, PLIF, CubaLIF
from spikedyn.surrogate import ATan, Sigmoid, Triangle

BACKENDS = ["reference", "fused", "triton"]
SHAPE = (3, 4)


def literal_loop(x, neuron):
    """S and H of the neuron over x [T, B, *shape], step by step, straight from the equations (ARCHITECTURE.md, issue 22)."""
    e, dyn = neuron.effective(), neuron.dynamics
    rest = 0.0 if dyn.v_reset is None else dyn.v_reset
    k = None if math.isinf(float(e["tau"].reshape(-1)[0])) else 1.0 / e["tau"]
    theta = e["threshold"]

    def per_neuron(value):
        return value if value.dim() == 0 else value.reshape(value.shape + (1,) * (len(SHAPE) - value.dim()))

    k, theta = (None if k is None else per_neuron(k)), per_neuron(theta)
    v = torch.full(x.shape[1:], rest, dtype=x.dtype) if neuron.imp is None else per_neuron(neuron.imp).expand(x.shape[1:])
    current = torch.zeros(x.shape[1:], dtype=x.dtype)
    a = torch.zeros(x.shape[1:], dtype=x.dtype)
    spikes, charged = [], []
    for x_t in x:
        if "synaptic_tau" in e:
            current = (1 - 1 / per_neuron(e["synaptic_tau"])) * current + x_t
            drive = current
        else:
            drive = x_t
        if k is None:
            h = v + drive
        elif dyn.decay_input:
            h = v + k * (drive - (v - rest))
        else:
            h = v - k * (v - rest) + drive
        if "adaptation_tau" in e:
            beta = per_neuron(e["adaptation_strength"])
            threshold = theta + beta * (a.detach() if dyn.detach_adaptation else a)
        else:
            threshold = theta
        s = dyn.surrogate(h - threshold)
        if dyn.v_reset is None:
            amount = threshold * s
            v = h - (amount.detach() if dyn.detach_reset else amount)
        else:
            sr = s.detach() if dyn.detach_reset else s
            v = h * (1 - sr) + rest * sr
        if "adaptation_tau" in e:
            a = (1 - 1 / per_neuron(e["adaptation_tau"])) * a + s
        spikes.append(s)
        charged.append(h)
    return torch.stack(spikes), torch.stack(charged)


def neurons():
    """(id, factory) for every kind with a learned threshold or a new dynamic, at every granularity and option."""
    cases = []
    for granularity, reset, detach, decay in itertools.product(("layer", "channel", "neuron"), (0.0, None), (True, False), (True, False)):
        common = dict(shape=SHAPE, v_reset=reset, detach_reset=detach, threshold=granularity)
        tag = f"{granularity}-{'hard' if reset is not None else 'soft'}-{'detach' if detach else 'attached'}-{'decay' if decay else 'nodecay'}"
        cases.append((f"PLIF-{tag}", lambda c=common, d=decay: PLIF(tau=3.0, tau_shape="neuron", decay_input=d, imp="neuron", **c)))
        cases.append((f"ALIF-{tag}", lambda c=common, d=decay, g=granularity: ALIF(
            tau=3.0, tau_shape="channel", decay_input=d, adaptation_tau=5.0, adaptation_strength=0.4, adaptation_shape=g,
            detach_adaptation=not d, imp="channel", **c)))  # fmt: skip
        cases.append((f"CubaLIF-{tag}", lambda c=common, d=decay, g=granularity: CubaLIF(
            tau=2.5, decay_input=d, synaptic_tau=3.0, synaptic_shape=g, **c)))  # fmt: skip
    cases.append(("LIF-threshold", lambda: LIF(tau=2.0, shape=SHAPE, threshold="neuron", surrogate=Sigmoid(alpha=3.0))))
    cases.append(("IF-threshold", lambda: IF(shape=SHAPE, threshold="channel", surrogate=Triangle(alpha=1.0), v_reset=None)))
    cases.append(("ALIF-fixed-threshold", lambda: ALIF(shape=SHAPE, v_reset=None, surrogate=ATan(alpha=3.0))))
    return cases


CASES = neurons()


def _randomise(neuron: nn.Module, seed: int) -> None:
    """Move every learned parameter away from its initial value, so a shape or broadcasting slip shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in neuron.parameters():
            param.add_(0.3 * torch.randn(param.shape, generator=generator, dtype=param.dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "factory"), CASES, ids=[name for name, _ in CASES])
def test_every_backend_matches_the_literal_loop(name, factory, backend):
    torch.manual_seed(0)
    neuron = factory()
    _randomise(neuron, seed=len(name))
    neuron.backend = backend
    x = (3.0 * torch.rand(7, 2, *SHAPE)).requires_grad_()
    spikes = neuron(x)
    weights = torch.rand(spikes.shape)
    (spikes * weights).sum().backward()
    got = {"x": x.grad.clone(), **{n: None if p.grad is None else p.grad.clone() for n, p in neuron.named_parameters()}}
    x.grad = None
    neuron.zero_grad()
    expected_spikes, _ = literal_loop(x, neuron)
    (expected_spikes * weights).sum().backward()
    expected = {"x": x.grad, **{n: p.grad for n, p in neuron.named_parameters()}}
    assert torch.equal(spikes, expected_spikes)
    assert 0 < float(spikes.mean()) < 1, "a silent or saturated neuron tests nothing"
    for key, value in expected.items():
        if value is None:  # no path from the loss (tau_a with detach_adaptation): none on either side, or zeros
            assert got[key] is None or not got[key].any(), f"{name} [{backend}] d/d{key} should be absent"
            continue
        torch.testing.assert_close(got[key], value, rtol=1e-5, atol=1e-5, msg=lambda m, key=key: f"{name} [{backend}] d/d{key}: {m}")


def test_effective_quantities_are_differentiable_and_what_the_options_say():
    alif = ALIF(tau=3.0, shape=SHAPE, tau_shape="neuron", adaptation_tau=6.0, adaptation_strength=0.25, adaptation_shape="channel", threshold="layer", v_threshold=0.7)
    e = alif.effective()
    assert e["tau"].shape == SHAPE and torch.allclose(e["tau"], torch.tensor(3.0))
    assert e["adaptation_tau"].shape == (3,) and torch.allclose(e["adaptation_tau"], torch.tensor(6.0))
    assert torch.allclose(e["adaptation_strength"], torch.tensor(0.25)) and torch.allclose(e["threshold"], torch.tensor(0.7))
    assert all(value.requires_grad for value in e.values())
    cuba = CubaLIF(synaptic_tau=4.0)
    assert sorted(cuba.effective()) == ["synaptic_tau", "tau", "threshold"] and not cuba.effective()["threshold"].requires_grad
    assert set(IF().effective()) == {"tau", "threshold"} and math.isinf(float(IF().effective()["tau"]))
    assert float(LIF(tau=4.0).effective()["tau"]) == 4.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PLIF(threshold="neuron"), "threshold='neuron' needs the feature shape"),
        (lambda: PLIF(threshold="per-neuron"), "threshold='per-neuron' is not supported"),
        (lambda: PLIF(threshold="layer", v_threshold=-1.0, v_reset=-2.0), "must be a finite number > 0"),
        (lambda: ALIF(adaptation_tau=1.0), "tau must be a finite number > 1"),
        (lambda: ALIF(adaptation_strength=0.0), "adaptation_strength must be a finite number > 0"),
        (lambda: ALIF(adaptation_shape="neuron"), "adaptation_shape='neuron' needs the feature shape"),
        (lambda: CubaLIF(synaptic_tau=0.5), "tau must be a finite number > 1"),
        (lambda: ALIF(detach_adaptation=1), "detach_adaptation must be True or False"),
    ],
)
def test_bad_options_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_a_fixed_threshold_is_todays_neuron_bit_for_bit():
    torch.manual_seed(0)
    x = torch.rand(9, 3, *SHAPE) * 2
    today = PLIF(tau=2.0)
    fixed = PLIF(tau=2.0, threshold="fixed")
    assert not fixed.extended and fixed.threshold_param is None and "threshold_param" not in dict(fixed.named_parameters())
    for backend in BACKENDS:
        today.backend = fixed.backend = backend
        assert torch.equal(today(x), fixed(x))


def test_streaming_steps_give_the_sequence_and_carry_the_state():
    torch.manual_seed(1)
    alif = ALIF(shape=SHAPE, adaptation_strength=0.3, threshold="neuron")
    cuba = CubaLIF(shape=SHAPE, synaptic_tau=3.0)
    x = torch.rand(6, 2, *SHAPE) * 2
    for neuron in (alif, cuba):
        state, spikes = None, []
        for x_t in x:
            s, state = neuron.step(x_t, state)
            spikes.append(s)
        assert torch.equal(torch.stack(spikes), neuron(x))

"""The oracle: the pure step function run in a Python loop under autograd."""

from __future__ import annotations

import torch

from spikedyn.neurons.dynamics import Dynamics, Quantities, State, charge, extended_step, neuron_step
from spikedyn.neurons.parameters import broadcastable


def decay_factor(k_param: torch.Tensor | None, k_is_logit: bool) -> torch.Tensor | None:
    """k = 1/tau: sigmoid(a) for PLIF, the fixed k for LIF, None for IF."""
    if k_param is None:
        return None
    return torch.sigmoid(k_param) if k_is_logit else k_param


def initial_potential(v0: torch.Tensor | None, dyn: Dynamics, like: torch.Tensor) -> torch.Tensor:
    """V_{-1} for a batch shaped like ``like`` [B, *shape]: the IMP, or the resting potential."""
    if v0 is None:
        return torch.full_like(like, dyn.rest)
    return broadcastable(v0, tuple(like.shape[1:])).to(like.dtype).expand_as(like)


def run_reference(
    x: torch.Tensor,
    dyn: Dynamics,
    k_param: torch.Tensor | None,
    k_is_logit: bool,
    v0: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run T steps of :func:`neuron_step`; returns (spikes, H), both [T, B, *shape]."""
    shape = tuple(x.shape[2:])
    k = decay_factor(k_param, k_is_logit)
    kb = 0.0 if k is None else broadcastable(k, shape).to(x.dtype)
    v = initial_potential(v0, dyn, x.new_empty(x.shape[1:]))  # not x[0], which T = 0 lacks
    if x.shape[0] == 0:  # empty outputs that still depend on x, k and V_{-1}: zero gradients, as the fused kernels give
        h = charge(v, x, kb, dyn)
        return dyn.surrogate(h - dyn.v_threshold), h
    spikes, potentials = [], []
    for x_t in x:
        s, h, v = neuron_step(x_t, v, kb, dyn)
        spikes.append(s)
        potentials.append(h)
    return torch.stack(spikes), torch.stack(potentials)


def _broadcast(value: torch.Tensor | float | None, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor | float | None:
    """A quantity in its own shape (per layer, channel or neuron) as a view that broadcasts against [B, *shape]."""
    return value if value is None or isinstance(value, float) else broadcastable(value, shape).to(dtype)


def run_extended_reference(x: torch.Tensor, dyn: Dynamics, q: Quantities, v0: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run T steps of :func:`extended_step` (a synaptic current where ``q`` has its decay, adaptation where it has beta); (spikes, H)."""
    shape = tuple(x.shape[2:])
    q = Quantities(*(_broadcast(value, shape, x.dtype) for value in q))
    like = x.new_empty(x.shape[1:])
    state = State(
        initial_potential(v0, dyn, like),
        None if q.synaptic_decay is None else torch.zeros_like(like),
        None if q.adaptation_strength is None else torch.zeros_like(like),
    )
    if x.shape[0] == 0:  # empty outputs that still depend on every input: zero gradients
        s, h, _ = extended_step(x, State(state.v, None if state.current is None else state.current * x, state.adaptation), q, dyn)
        return s, h
    spikes, potentials = [], []
    for x_t in x:
        s, h, state = extended_step(x_t, state, q, dyn)
        spikes.append(s)
        potentials.append(h)
    return torch.stack(spikes), torch.stack(potentials)

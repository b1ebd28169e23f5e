"""The extended neuron's closed-form forward/backward in plain torch ops (any device and dtype), and the kernels' contract.

The contract every extended kernel module (:mod:`numba_extended`, :mod:`triton_extended`)
shares: tensors are flattened to [T, M] with M = B * N; the per-neuron quantities come as
:class:`Vectors` of [N] vectors; the forward returns spikes and, for the backward, H and the
synaptic current I (CubaLIF) and adaptation a (ALIF) of every step; the backward recomputes
V_{t-1}, A_t and S_t from those and returns dL/dx and the per-neuron sums over the batch of
each needed gradient. The k entry of those sums is the accumulator sum_t dL/dH_t (H_t - V_{t-1})
with decay_input (dH/dk times k), else sum_t dL/dH_t (V_rest - V_{t-1}); the caller turns it into dL/dk.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from spikedyn.neurons.dynamics import Dynamics, adaptive_threshold, charge, reset_from


class Vectors(NamedTuple):
    """Per-neuron [N] vectors: k (zeros without a leak), theta, rho_s (CubaLIF), rho_a and beta (ALIF), V_{-1}."""

    k: torch.Tensor
    threshold: torch.Tensor
    synaptic_decay: torch.Tensor | None
    adaptation_decay: torch.Tensor | None
    adaptation_strength: torch.Tensor | None
    v0: torch.Tensor

    @property
    def synaptic(self) -> bool:
        """Whether the neuron has a synaptic current (CubaLIF)."""
        return self.synaptic_decay is not None

    @property
    def adaptive(self) -> bool:
        """Whether the neuron has an adaptive threshold (ALIF)."""
        return self.adaptation_strength is not None


class Saved(NamedTuple):
    """What the forward keeps for the backward, each [T, M] or None: H, and I (CubaLIF) and a (ALIF)."""

    h: torch.Tensor | None
    current: torch.Tensor | None
    adaptation: torch.Tensor | None


def _fire(h: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    return (h - threshold >= 0).to(h.dtype)


def forward(x: torch.Tensor, vec: Vectors, n: int, dyn: Dynamics, keep: bool = True) -> tuple[torch.Tensor, Saved]:
    """Spikes [T, M] and (with ``keep``) what the backward needs, from x [T, M]; the same ops as the reference."""
    steps = x.shape[0]
    xv = x.view(steps, -1, n)
    spikes = torch.empty_like(x)
    saved = Saved(*(torch.empty_like(x) if keep and on else None for on in (True, vec.synaptic, vec.adaptive)))
    v = vec.v0.expand_as(xv[0]) if steps else vec.v0
    current = torch.zeros_like(v) if vec.synaptic else None
    adaptation = torch.zeros_like(v) if vec.adaptive else None
    for t in range(steps):
        drive = xv[t] if current is None else vec.synaptic_decay * current + xv[t]
        h = charge(v, drive, vec.k, dyn)
        threshold = vec.threshold if adaptation is None else adaptive_threshold(vec.threshold, vec.adaptation_strength, adaptation, dyn)
        s = _fire(h, threshold)
        v = reset_from(h, s, threshold, dyn)
        spikes.view_as(xv)[t] = s
        if current is not None:
            current = drive
        if adaptation is not None:
            adaptation = vec.adaptation_decay * adaptation + s
        for kept, value in zip(saved, (h, current, adaptation)):
            if kept is not None:
                kept.view_as(xv)[t] = value
    return spikes, saved


def _partials(h: torch.Tensor, s: torch.Tensor, sg: torch.Tensor, threshold: torch.Tensor, dyn: Dynamics) -> tuple:
    """(dV/dH, dV/dA) of the reset, the surrogate's path included unless ``detach_reset``."""
    if dyn.hard_reset:
        if dyn.detach_reset:
            return 1.0 - s, torch.zeros_like(h)
        return (1.0 - s) + (dyn.rest - h) * sg, -(dyn.rest - h) * sg
    if dyn.detach_reset:
        return torch.ones_like(h), torch.zeros_like(h)
    return 1.0 - threshold * sg, threshold * sg - s


def backward(
    grad_s: torch.Tensor, grad_h: torch.Tensor | None, saved: Saved, vec: Vectors, n: int, dyn: Dynamics,
    needs: tuple[bool, ...], grad_x: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:  # fmt: skip
    """(grad_x [T, M], per-neuron batch sums [N] in :class:`Vectors` order, None where not ``needs``).

    ``grad_x`` may be ``saved.h`` itself: each step reads H_t and H_{t-1} before it writes grad_x[t].
    """
    h_all = saved.h
    steps = h_all.shape[0]
    hv = h_all.view(steps, -1, n)
    cv = None if saved.current is None else saved.current.view_as(hv)
    av = None if saved.adaptation is None else saved.adaptation.view_as(hv)
    gsv, gxv = grad_s.view_as(hv), grad_x.view_as(hv)
    ghv = None if grad_h is None else grad_h.view_as(hv)
    zeros = torch.zeros_like(hv[0]) if steps else hv.new_zeros(())
    gv, gi, ga = zeros, zeros, zeros
    acc = [zeros for _ in needs]
    coupled = vec.adaptive and not dyn.detach_adaptation

    def threshold_at(t: int) -> torch.Tensor:  # A_t from a_{t-1}
        if not vec.adaptive:
            return vec.threshold.expand_as(zeros)
        return vec.threshold + vec.adaptation_strength * (av[t - 1] if t > 0 else zeros)

    for t in range(steps - 1, -1, -1):
        h, threshold = hv[t], threshold_at(t)
        if t > 0:
            threshold_prev = threshold_at(t - 1)
            v_prev = reset_from(hv[t - 1], _fire(hv[t - 1], threshold_prev), threshold_prev, dyn)
        else:
            v_prev = vec.v0.expand_as(h)
        s = _fire(h, threshold)
        sg = dyn.surrogate.derivative(h - threshold)
        dv_dh, dv_da = _partials(h, s, sg, threshold, dyn)
        g_s = gsv[t] + ga if coupled else gsv[t]
        g_h = g_s * sg + gv * dv_dh + (0.0 if ghv is None else ghv[t])
        g_a = gv * dv_da - g_s * sg
        a_prev = (av[t - 1] if t > 0 else zeros) if vec.adaptive else None
        acc[0] = acc[0] + g_h * ((h - v_prev) if dyn.decay_input and dyn.leaky else (dyn.rest - v_prev))
        acc[1] = acc[1] + g_a
        if vec.adaptive:
            acc[4] = acc[4] + g_a * a_prev
            if coupled:
                acc[3] = acc[3] + ga * a_prev
                ga = vec.adaptation_decay * ga + vec.adaptation_strength * g_a
        gv = g_h * (1.0 - vec.k) if dyn.leaky else g_h
        g_i = g_h * vec.k if dyn.leaky and dyn.decay_input else g_h
        if vec.synaptic:
            g_i = g_i + gi
            acc[2] = acc[2] + g_i * (cv[t - 1] if t > 0 else zeros)
            gi = vec.synaptic_decay * g_i
        gxv[t] = g_i
    acc[5] = gv
    sums = tuple(value.expand_as(zeros).sum(0) if need else None for value, need in zip(acc, needs))
    return grad_x, sums

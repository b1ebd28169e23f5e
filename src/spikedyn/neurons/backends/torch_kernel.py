"""The fused backend's closed-form forward/backward in plain torch ops (any device and dtype).

The contract every kernel module (:mod:`numba_kernel`, :mod:`triton_kernel`) shares:
tensors are flattened to [T, M] with M = B * N; k and V_{-1} are [N] vectors (k is ignored
without a leak); the backward is Eqs. (8)-(16) of the PLIF paper and needs only H. The
incoming spike gradient is any [T, M] view (a broadcast from ``spikes.sum()`` stays one);
the backward returns the per-neuron sums over the batch that dL/da and dL/dV_{-1} need.
"""

from __future__ import annotations

import torch

from spikedyn.neurons.dynamics import Dynamics, charge, reset


def _fire(h: torch.Tensor, dyn: Dynamics) -> torch.Tensor:
    return (h >= dyn.v_threshold).to(h.dtype)



def forward(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, n: int, dyn: Dynamics, keep_h: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Spikes and (with ``keep_h``) H, both [T, M], from x [T, M]."""
    steps = x.shape[0]
    xv = x.view(steps, -1, n)
    spikes = torch.empty_like(x)
    potentials = torch.empty_like(x) if keep_h else None
    sv = spikes.view_as(xv)
    v = v0.expand_as(xv[0]) if steps else v0
    for t in range(steps):
        h = charge(v, xv[t], k, dyn)
        s = _fire(h, dyn)
        v = reset(h, s, dyn)
        if potentials is not None:
            potentials.view_as(xv)[t] = h
        sv[t] = s
    return spikes, potentials


def backward(
    grad_s: torch.Tensor,
    grad_h: torch.Tensor | None,
    h: torch.Tensor,
    k: torch.Tensor,
    v0: torch.Tensor,
    n: int,
    dyn: Dynamics,
    need_k: bool,
    need_v0: bool,
    grad_x: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Returns (grad_x [T, M], sum over the batch of the k accumulator [N] or None, of dL/dV_{-1} [N] or None).

    The accumulator is sum_t dL/dH_t * (H_t - V_{t-1}) with decay_input, else
    sum_t dL/dH_t * (V_rest - V_{t-1}); the caller turns it into dL/da. ``grad_x`` may be
    ``h`` itself: each step reads H_t and H_{t-1} before it writes grad_x[t].
    """
    steps = h.shape[0]
    hv = h.view(steps, -1, n)
    gsv = grad_s.view(steps, -1, n)
    ghv = None if grad_h is None else grad_h.view_as(hv)
    gxv = grad_x.view_as(hv)
    grad_v = torch.zeros_like(hv[0])
    acc = torch.zeros_like(hv[0]) if need_k and dyn.leaky else None
    for t in range(steps - 1, -1, -1):
        h_t = hv[t]
        v_prev = reset(hv[t - 1], _fire(hv[t - 1], dyn), dyn) if t > 0 else v0
        sg = dyn.surrogate.derivative(h_t - dyn.v_threshold)
        if dyn.hard_reset:
            dv_dh = 1.0 - _fire(h_t, dyn)
            if not dyn.detach_reset:
                dv_dh = dv_dh + (dyn.rest - h_t) * sg
        else:
            dv_dh = torch.ones_like(h_t) if dyn.detach_reset else 1.0 - dyn.v_threshold * sg
        g = gsv[t] * sg + grad_v * dv_dh
        if ghv is not None:
            g = g + ghv[t]
        if acc is not None:
            acc += g * ((h_t - v_prev) if dyn.decay_input else (dyn.rest - v_prev))
        if dyn.leaky:
            grad_v = g * (1.0 - k)
            gxv[t] = g * k if dyn.decay_input else g
        else:
            grad_v = g
            gxv[t] = g
    acc_sum = None if acc is None else acc.sum(0)
    grad_v_sum = grad_v.expand_as(hv[0]).sum(0) if need_v0 else None
    return grad_x, acc_sum, grad_v_sum

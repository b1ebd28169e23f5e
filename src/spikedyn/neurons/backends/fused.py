"""The fused backend: all T steps in one autograd Function with the closed-form backward.

It keeps only H for the backward pass (V_{t-1} and S_t are recomputed from it) and, when H
is not returned to the caller, writes the input gradient into H's own buffer, so a
forward+backward allocates two [T, B, N] tensors (S and H) and nothing else of that size.
The per-step work runs in :mod:`numba_kernel` on the CPU and in :mod:`torch_kernel` elsewhere.
"""

from __future__ import annotations

import math

import torch

from spikedyn.neurons.backends import numba_kernel, torch_kernel
from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.dynamics import Dynamics
from spikedyn.neurons.parameters import per_neuron, reduce_to


def select_kernel(x: torch.Tensor, dyn: Dynamics):
    """The fastest kernel module that supports this input."""
    return numba_kernel if numba_kernel.supports(x, dyn) else torch_kernel


def _k_vector(k_param: torch.Tensor | None, k_is_logit: bool, shape: tuple[int, ...], dtype: torch.dtype):
    if k_param is None:
        return None
    k = torch.sigmoid(k_param) if k_is_logit else k_param
    return per_neuron(k.detach(), shape).to(dtype)


def _v0_vector(v0: torch.Tensor | None, dyn: Dynamics, x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if v0 is None:
        return torch.full((math.prod(shape),), dyn.rest, dtype=x.dtype, device=x.device)
    return per_neuron(v0.detach(), shape).to(x.dtype)


def fused_forward(
    x: torch.Tensor,
    dyn: Dynamics,
    k_param: torch.Tensor | None,
    k_is_logit: bool,
    v0: torch.Tensor | None,
    keep_h: bool,
):
    """Run the forward kernel on x [T, B, *shape]: (kernel, spikes [T, M], H [T, M] or None)."""
    steps, batch = x.shape[:2]
    shape = tuple(x.shape[2:])
    n = math.prod(shape)
    kernel = select_kernel(x, dyn)
    x2 = x.detach().reshape(steps, batch * n).contiguous()
    k = _k_vector(k_param, k_is_logit, shape, x.dtype)
    s, h = kernel.forward(x2, k, _v0_vector(v0, dyn, x, shape), n, dyn, keep_h)
    return kernel, s, h


class FusedNeuronFunction(torch.autograd.Function):
    """(x, k_param, v0) -> (S, H) over all T steps, backward by the PLIF paper's Eqs. (8)-(16)."""

    @staticmethod
    def forward(ctx, x, k_param, v0, dyn: Dynamics, k_is_logit: bool, h_is_private: bool):  # type: ignore[override]
        kernel, s, h = fused_forward(x, dyn, k_param, k_is_logit, v0, keep_h=True)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(h, k_param, v0)
        ctx.dyn, ctx.k_is_logit, ctx.h_is_private = dyn, k_is_logit, h_is_private
        ctx.x_shape, ctx.kernel, ctx.consumed = x.shape, kernel, False
        return s.view(x.shape), h.view(x.shape)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_s, grad_h):  # type: ignore[override]
        if ctx.consumed:
            raise RuntimeError(
                "the fused neuron backend reuses its saved buffer for the input gradient, so its graph "
                "can be backpropagated once; for retain_graph=True use backend='reference' or return_v=True"
            )
        h, k_param, v0 = ctx.saved_tensors
        dyn, shape = ctx.dyn, tuple(ctx.x_shape[2:])
        n = math.prod(shape)
        need_x, need_k, need_v0 = ctx.needs_input_grad[:3]
        if need_k and not ctx.k_is_logit:
            raise RuntimeError("the fused backend learns k only through its logit a (PLIF); a fixed k has no gradient")
        if grad_s is None and grad_h is None:
            return None, None, None, None, None, None
        grad_s = torch.zeros_like(h) if grad_s is None else grad_s.reshape(h.shape).contiguous()
        if grad_h is not None:
            grad_h = grad_h.reshape(h.shape).contiguous()
        grad_x = h if ctx.h_is_private else fresh_like(h)
        ctx.consumed = ctx.h_is_private
        k = _k_vector(k_param, ctx.k_is_logit, shape, h.dtype)
        grad_x, acc, grad_v = ctx.kernel.backward(
            grad_s, grad_h, h, k, _v0_vector(v0, dyn, h, shape), n, dyn, bool(need_k), grad_x
        )
        grad_k = None
        if need_k:
            factor = (1.0 - k) if dyn.decay_input else k * (1.0 - k)
            per_n = ctx.kernel.sum_over_batch(acc, n) * factor
            grad_k = reduce_to(per_n.view(shape), k_param.shape, shape).to(k_param.dtype)
        grad_v0 = None
        if need_v0:
            grad_v0 = reduce_to(ctx.kernel.sum_over_batch(grad_v, n).view(shape), v0.shape, shape).to(v0.dtype)
        return (grad_x.view(ctx.x_shape) if need_x else None), grad_k, grad_v0, None, None, None


def _needs_graph(*tensors: torch.Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def run_fused(
    x: torch.Tensor,
    dyn: Dynamics,
    k_param: torch.Tensor | None,
    k_is_logit: bool,
    v0: torch.Tensor | None,
    return_v: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run T steps fused; returns (spikes, H), both [T, B, *shape]; H is None unless ``return_v``.

    Without a graph to build (inference, frozen inputs) H is neither kept nor written out.
    """
    if not _needs_graph(x, k_param, v0):
        _, s, h = fused_forward(x, dyn, k_param, k_is_logit, v0, keep_h=return_v)
        return s.view(x.shape), None if h is None else h.view(x.shape)
    return FusedNeuronFunction.apply(x, k_param, v0, dyn, k_is_logit, not return_v)

"""The fused backends: all T steps in one operator whose backward is the closed form.

It keeps only H for the backward pass (V_{t-1} and S_t are recomputed from it) and, when H
is not returned to the caller, writes the input gradient into H's own buffer, so a
forward+backward allocates two [T, B, N] tensors (S and H) and nothing else of that size.
The incoming spike gradient is read as it comes (the stride-0 broadcast of ``spikes.sum()``
is never materialised).

Which kernel runs (see :func:`selection.select_kernel`): ``fused`` runs :mod:`numba_kernel` on the CPU
(float32/64) and :mod:`torch_kernel` elsewhere; ``triton`` runs :mod:`triton_kernel`; ``auto``
takes Triton for CUDA tensors when it imports, else what ``fused`` takes. Built-in surrogates
go through the custom operators of :mod:`ops`; a user-defined surrogate, which cannot cross an
operator boundary, runs the torch kernel inside an autograd Function with the same formulas.
"""

from __future__ import annotations

import torch

from spikedyn.neurons.backends import ops, selection
from spikedyn.neurons.dynamics import Dynamics


class _UserSurrogateFunction(torch.autograd.Function):
    """(x, k_param, v0) -> (S, H) for a surrogate without a kernel id: the torch kernel, same formulas."""

    @staticmethod
    def forward(ctx, x, k_param, v0, dyn: Dynamics, k_is_logit: bool):  # type: ignore[override]
        s, h = ops.forward_impl(x, k_param, v0, "torch", dyn, k_is_logit, keep_h=True)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(h, k_param, v0)
        ctx.dyn, ctx.k_is_logit = dyn, k_is_logit
        return s, h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_s, grad_h):  # type: ignore[override]
        h, k_param, v0 = ctx.saved_tensors
        need_x, need_k, need_v0 = ctx.needs_input_grad[:3]
        if grad_s is None and grad_h is None:
            return None, None, None, None, None
        grad_s = h.new_zeros(()).expand(h.shape) if grad_s is None else grad_s
        grad_x = torch.empty_like(h)
        grad_k, grad_v0 = ops.backward_into(
            grad_x, grad_s, grad_h, h, k_param, v0, "torch", ctx.dyn, ctx.k_is_logit, need_k, need_v0
        )
        return (grad_x if need_x else None), (grad_k if need_k else None), (grad_v0 if need_v0 else None), None, None


def _needs_graph(*tensors: torch.Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def run_fused(
    x: torch.Tensor,
    dyn: Dynamics,
    k_param: torch.Tensor | None,
    k_is_logit: bool,
    v0: torch.Tensor | None,
    return_v: bool = False,
    backend: str = "fused",
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run T steps fused; returns (spikes, H), both [T, B, *shape]; H is None unless ``return_v``.

    Without a graph to build (inference, frozen inputs) H is neither kept nor written out.
    """
    keep_h = return_v or _needs_graph(x, k_param, v0)
    if dyn.surrogate.KERNEL_ID is None:
        if backend == "triton":
            selection.select_kernel(backend, x, dyn)  # raises: Triton evaluates the built-in surrogates only
        if keep_h:
            s, h = _UserSurrogateFunction.apply(x, k_param, v0, dyn, k_is_logit)
        else:
            s, h = ops.forward_impl(x, k_param, v0, "torch", dyn, k_is_logit, keep_h=False)
    else:
        s, h = torch.ops.spikedyn.neuron_forward(
            x, k_param, v0, backend, *ops.dynamics_args(dyn), k_is_logit, keep_h, not return_v
        )
    return s, h if return_v else None

"""The fused extended neuron (learned threshold, ALIF, CubaLIF): all T steps in one operator with the closed-form backward.

It keeps H, and I (CubaLIF) or a (ALIF), for the backward (V_{t-1}, A_t and S_t are recomputed)
and, when H is not returned, writes the input gradient over H's own buffer. Built-in surrogates
go through the custom operators of :mod:`extended_ops`; a user-defined surrogate, which cannot
cross an operator boundary, runs the torch kernel inside an autograd Function with the same formulas.
"""

from __future__ import annotations

import torch

from spikedyn.neurons.backends import extended_ops, selection
from spikedyn.neurons.backends.torch_extended import Saved
from spikedyn.neurons.dynamics import Dynamics, Quantities


class _UserSurrogateFunction(torch.autograd.Function):
    """(x, k, theta, rho_s, rho_a, beta, v0) -> (S, H) for a surrogate without a kernel id: the torch kernel, same formulas."""

    @staticmethod
    def forward(ctx, x, k, theta, rho_s, rho_a, beta, v0, dyn: Dynamics):  # type: ignore[override]
        quantities = (k, theta, rho_s, rho_a, beta, v0)
        s, h, current, adaptation = extended_ops.forward_impl(x, quantities, "torch", dyn, keep=True)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(h, current, adaptation, *quantities)
        ctx.dyn = dyn
        return s, h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_s, grad_h):  # type: ignore[override]
        h, current, adaptation, *quantities = ctx.saved_tensors
        if grad_s is None and grad_h is None:
            return (None,) * 8
        grad_s = h.new_zeros(()).expand(h.shape) if grad_s is None else grad_s
        grad_x = torch.empty_like(h)
        needs = extended_ops.wanted(ctx.needs_input_grad[1:7], ctx.dyn.detach_adaptation)
        grads = extended_ops.backward_into(grad_x, grad_s, grad_h, Saved(h, current, adaptation), tuple(quantities), "torch", ctx.dyn, needs)
        return (grad_x if ctx.needs_input_grad[0] else None, *(g if need else None for g, need in zip(grads, needs)), None)


def _as_tensor(value: torch.Tensor | float | None, x: torch.Tensor) -> torch.Tensor | None:
    """A quantity given as a number becomes a 0-d tensor in x's dtype (as torch treats a Python scalar)."""
    return x.new_full((), float(value)) if isinstance(value, (int, float)) else value


def _needs_graph(*tensors: torch.Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def run_extended_fused(
    x: torch.Tensor, dyn: Dynamics, q: Quantities, v0: torch.Tensor | None, return_v: bool = False, backend: str = "fused"
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run T steps of the extended dynamics fused; returns (spikes, H), both [T, B, *shape]; H is None unless ``return_v``."""
    quantities = (*(_as_tensor(value, x) for value in q), v0)
    keep = return_v or _needs_graph(x, *quantities)
    if dyn.surrogate.KERNEL_ID is None:
        if backend == "triton":
            selection.select_kernel(backend, x, dyn)  # raises: Triton evaluates the built-in surrogates only
        if keep:
            s, h = _UserSurrogateFunction.apply(x, *quantities, dyn)
        else:
            s, h, _, _ = extended_ops.forward_impl(x, quantities, "torch", dyn, keep=False)
    else:
        s, h, _, _ = torch.ops.spikedyn.extended_forward(
            x, *quantities, backend, *extended_ops.dynamics_args(dyn), keep, not return_v
        )
    return s, h if return_v else None

"""The fused neuron as torch custom operators, so torch.compile and torch.export see through it.

- ``spikedyn::neuron_forward(x, k, v0, backend, <dynamics>, ...) -> (spikes, H)``
- ``spikedyn::neuron_backward(h, grad_s, grad_h, k, v0, backend, <dynamics>, ...) -> (grad_x, grad_k, grad_v0)``
- ``spikedyn::neuron_backward_``: the same, writing grad_x over H (declared as mutating H).

``backend`` ("auto", "fused", "triton", or a kernel's own name) picks the kernel when the
operator runs (:mod:`selection`), from the input's device and dtype; the dynamics travel as
plain numbers (the surrogate as its ``KERNEL_ID`` and ``alpha``). ``k`` (the fixed k, or the
PLIF logit a with ``k_is_logit``) and ``v0`` (the IMP) come in their own shapes, per layer,
channel or neuron; gradients come back in those shapes, summed in a fixed order. Each
operator has a fake implementation (shapes only), and the forward has a registered autograd
formula, so Dynamo traces a network with its neurons as one graph and Inductor calls the
kernels as they are. The same implementation functions serve the user-defined-surrogate
path in :mod:`fused`, which passes its :class:`Dynamics` directly.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from spikedyn.neurons.backends import selection
from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.dynamics import Dynamics
from spikedyn.neurons.parameters import per_neuron, reduce_to
from spikedyn.surrogate import from_kernel_id

_NOT_DIFFERENTIABLE = (None,) * 11  # the gradients of every argument after x, k and v0


def dynamics_args(dyn: Dynamics) -> tuple:
    """The dynamics as operator arguments: (v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate id, alpha)."""
    kernel_id = dyn.surrogate.KERNEL_ID
    if kernel_id is None:
        raise TypeError(f"{type(dyn.surrogate).__name__} has no KERNEL_ID, so it cannot cross an operator boundary")
    return (dyn.v_threshold, dyn.v_reset, dyn.detach_reset, dyn.decay_input, dyn.leaky, kernel_id, float(dyn.surrogate.alpha))


def _dynamics(v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate_id, alpha) -> Dynamics:
    return Dynamics(v_threshold, v_reset, detach_reset, decay_input, leaky, from_kernel_id(surrogate_id, alpha))


def _vectors(k, v0, dyn: Dynamics, k_is_logit: bool, shape, dtype, device) -> tuple[Tensor, Tensor]:
    """Per-neuron [N] vectors of k = 1/tau (zeros without a leak) and V_{-1} (the rest potential without IMP)."""
    n = math.prod(shape)
    if k is None:
        k_vec = torch.zeros(n, dtype=dtype, device=device)
    else:
        k_vec = per_neuron((torch.sigmoid(k) if k_is_logit else k).detach(), shape).to(dtype)
    if v0 is None:
        return k_vec, torch.full((n,), dyn.rest, dtype=dtype, device=device)
    return k_vec, per_neuron(v0.detach(), shape).to(dtype)


def _param_dtype(kernel: str, x_dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if kernel == "triton" else x_dtype


def forward_impl(x: Tensor, k, v0, backend: str, dyn: Dynamics, k_is_logit: bool, keep_h: bool) -> tuple[Tensor, Tensor]:
    """Spikes and H (an empty tensor unless ``keep_h``) for x [T, B, *shape]."""
    kernel = selection.select_kernel(backend, x, dyn)
    steps, batch, shape = x.shape[0], x.shape[1], tuple(x.shape[2:])
    n = math.prod(shape)
    if x.numel() == 0:
        return torch.empty_like(x), torch.empty_like(x) if keep_h else x.new_empty(0)
    k_vec, v0_vec = _vectors(k, v0, dyn, k_is_logit, shape, _param_dtype(kernel, x.dtype), x.device)
    x2 = x.detach().reshape(steps, batch * n).contiguous()
    s, h = selection.kernel_module(kernel).forward(x2, k_vec, v0_vec, n, dyn, keep_h)
    return s.view(x.shape), x.new_empty(0) if h is None else h.view(x.shape)


def _rows(grad: Tensor, steps: int, m: int) -> Tensor:
    """A [T, M] view of a gradient, copied only when its elements are neither contiguous nor broadcast."""
    rows = grad.reshape(steps, m)
    return rows if rows.stride(1) in (0, 1) else rows.contiguous()


def backward_into(
    grad_x: Tensor, grad_s: Tensor, grad_h: Tensor | None, h: Tensor, k, v0, backend: str, dyn: Dynamics,
    k_is_logit: bool, need_k: bool, need_v0: bool,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Write dL/dx into ``grad_x`` (which may be ``h``); return (dL/dk-parameter, dL/dv0), empty where not needed."""
    kernel = selection.select_kernel(backend, h, dyn)
    steps, batch, shape = h.shape[0], h.shape[1], tuple(h.shape[2:])
    n = math.prod(shape)
    m = batch * n
    if need_k and not (k_is_logit and dyn.leaky):
        raise RuntimeError("the fused backend learns k only through its logit a (PLIF); a fixed k has no gradient")
    if h.numel() == 0:
        return (torch.zeros_like(k) if need_k else h.new_empty(0)), (torch.zeros_like(v0) if need_v0 else h.new_empty(0))
    k_vec, v0_vec = _vectors(k, v0, dyn, k_is_logit, shape, _param_dtype(kernel, h.dtype), h.device)
    _, acc, grad_v = selection.kernel_module(kernel).backward(
        _rows(grad_s, steps, m), None if grad_h is None else _rows(grad_h, steps, m), h.view(steps, m),
        k_vec, v0_vec, n, dyn, need_k, need_v0, grad_x.view(steps, m),
    )  # fmt: skip
    grad_k = h.new_empty(0)
    if need_k:
        factor = (1.0 - k_vec) if dyn.decay_input else k_vec * (1.0 - k_vec)  # dk/da = k (1 - k), over dH/dk's 1/k
        grad_k = reduce_to((acc * factor).view(shape), k.shape, shape).to(k.dtype)
    grad_v0 = h.new_empty(0) if not need_v0 else reduce_to(grad_v.view(shape), v0.shape, shape).to(v0.dtype)
    return grad_k, grad_v0


@torch.library.custom_op("spikedyn::neuron_forward", mutates_args=())
def neuron_forward(
    x: Tensor, k: Tensor | None, v0: Tensor | None, backend: str, v_threshold: float, v_reset: float | None,
    detach_reset: bool, decay_input: bool, leaky: bool, surrogate_id: int, alpha: float,
    k_is_logit: bool, keep_h: bool, h_private: bool,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """All T steps of a neuron: (spikes, H) shaped like x; H is empty unless ``keep_h``."""
    dyn = _dynamics(v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate_id, alpha)
    return forward_impl(x, k, v0, backend, dyn, k_is_logit, keep_h)


@neuron_forward.register_fake
def _(x, k, v0, backend, v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate_id, alpha, k_is_logit, keep_h, h_private):
    spikes = x.new_empty(x.shape)
    return spikes, x.new_empty(x.shape) if keep_h else x.new_empty(0)


@torch.library.custom_op("spikedyn::neuron_backward", mutates_args=())
def neuron_backward(
    h: Tensor, grad_s: Tensor, grad_h: Tensor | None, k: Tensor | None, v0: Tensor | None, backend: str,
    v_threshold: float, v_reset: float | None, detach_reset: bool, decay_input: bool, leaky: bool,
    surrogate_id: int, alpha: float, k_is_logit: bool, need_k: bool, need_v0: bool,
) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """(dL/dx, dL/dk-parameter, dL/dv0) from H and the output gradients; unneeded ones are empty."""
    dyn = _dynamics(v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate_id, alpha)
    grad_x = fresh_like(h)
    return (grad_x, *backward_into(grad_x, grad_s, grad_h, h, k, v0, backend, dyn, k_is_logit, need_k, need_v0))


@torch.library.custom_op("spikedyn::neuron_backward_", mutates_args=("h",))
def neuron_backward_(
    h: Tensor, grad_s: Tensor, grad_h: Tensor | None, k: Tensor | None, v0: Tensor | None, backend: str,
    v_threshold: float, v_reset: float | None, detach_reset: bool, decay_input: bool, leaky: bool,
    surrogate_id: int, alpha: float, k_is_logit: bool, need_k: bool, need_v0: bool,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """As ``neuron_backward``, writing dL/dx over H (its own buffer) instead of a new tensor."""
    dyn = _dynamics(v_threshold, v_reset, detach_reset, decay_input, leaky, surrogate_id, alpha)
    return backward_into(h, grad_s, grad_h, h, k, v0, backend, dyn, k_is_logit, need_k, need_v0)


def _parameter_grads_fake(h, k, v0, need_k, need_v0) -> tuple[Tensor, Tensor]:
    grad_k = k.new_empty(k.shape) if need_k else h.new_empty(0)
    return grad_k, v0.new_empty(v0.shape) if need_v0 else h.new_empty(0)


@neuron_backward.register_fake
def _(h, grad_s, grad_h, k, v0, backend, *dyn_args_and_flags):
    *_, need_k, need_v0 = dyn_args_and_flags
    return (h.new_empty(h.shape), *_parameter_grads_fake(h, k, v0, need_k, need_v0))


@neuron_backward_.register_fake
def _(h, grad_s, grad_h, k, v0, backend, *dyn_args_and_flags):
    *_, need_k, need_v0 = dyn_args_and_flags
    return _parameter_grads_fake(h, k, v0, need_k, need_v0)


def _setup_context(ctx, inputs, output) -> None:
    x, k, v0, backend, *dyn_args, k_is_logit, keep_h, h_private = inputs
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(output[1], k, v0)
    ctx.backend, ctx.dyn_args, ctx.k_is_logit, ctx.h_private, ctx.consumed = backend, dyn_args, k_is_logit, h_private, False


def _backward(ctx, grad_s: Tensor | None, grad_h: Tensor | None):
    if grad_s is None and grad_h is None:
        return (None, None, None, *_NOT_DIFFERENTIABLE)
    if ctx.consumed:  # before unpacking H, whose version counter would raise a vaguer error
        raise RuntimeError(
            "the fused neuron backend reuses its saved buffer for the input gradient, so its graph "
            "can be backpropagated once; for retain_graph=True use backend='reference' or return_v=True"
        )
    h, k, v0 = ctx.saved_tensors
    need_x, need_k, need_v0 = ctx.needs_input_grad[:3]
    if grad_s is None:
        grad_s = h.new_zeros(()).expand(h.shape)
    args = (grad_s, grad_h, k, v0, ctx.backend, *ctx.dyn_args, ctx.k_is_logit, bool(need_k), bool(need_v0))
    if ctx.h_private:
        ctx.consumed = True
        grad_k, grad_v0 = torch.ops.spikedyn.neuron_backward_(h, *args)
        grad_x = h
    else:
        grad_x, grad_k, grad_v0 = torch.ops.spikedyn.neuron_backward(h, *args)
    return (grad_x if need_x else None, grad_k if need_k else None, grad_v0 if need_v0 else None, *_NOT_DIFFERENTIABLE)


neuron_forward.register_autograd(_backward, setup_context=_setup_context)

"""The extended neuron (learned threshold, ALIF, CubaLIF) as torch custom operators, so torch.compile and torch.export see through it.

- ``spikedyn::extended_forward(x, k, theta, rho_s, rho_a, beta, v0, backend, <dynamics>, keep, h_private)
  -> (spikes, H, I, a)``: H, I (with rho_s) and a (with rho_a, beta) are kept for the backward
  (empty unless ``keep``); the caller returns only the spikes and, with ``return_v``, H.
- ``spikedyn::extended_backward(H, I, a, grad_s, grad_h, <quantities>, backend, <dynamics>, needs)
  -> (grad_x, grad_k, grad_theta, grad_rho_s, grad_rho_a, grad_beta, grad_v0)``, and
  ``spikedyn::extended_backward_``, the same writing grad_x over H (declared as mutating H).

The quantities are the *effective* ones (k = 1/tau, theta, rho = 1 - 1/tau, beta; computed by the
module with torch ops, so autograd chains their gradients to the raw parameters), each in its own
shape (0-d, per channel, per neuron, or the full feature shape) and dtype; the kernels get them
as per-neuron [N] vectors in the kernel's dtype and the gradients come back in their shapes,
summed over the batch in a fixed order. ``backend`` picks the kernel when the operator runs
(:func:`selection.select_kernel`), as for :mod:`ops`.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import torch
from torch import Tensor

from spikedyn.neurons.backends import selection
from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.backends.torch_extended import Saved, Vectors
from spikedyn.neurons.dynamics import Dynamics
from spikedyn.neurons.parameters import per_neuron, reduce_to
from spikedyn.surrogate import from_kernel_id

_NOT_DIFFERENTIABLE = (None,) * 10  # the gradients of every argument after the seven tensors
_MODULES = {"numba": "numba_extended", "triton": "triton_extended", "torch": "torch_extended"}


def kernel_module(name: str) -> ModuleType:
    """The module that implements the extended kernel ``name`` (imported on first use: numba and Triton are optional)."""
    return importlib.import_module(f"spikedyn.neurons.backends.{_MODULES[name]}")


def dynamics_args(dyn: Dynamics) -> tuple:
    """The dynamics as operator arguments: (v_reset, detach_reset, decay_input, leaky, detach_adaptation, surrogate id, alpha)."""
    kernel_id = dyn.surrogate.KERNEL_ID
    if kernel_id is None:
        raise TypeError(f"{type(dyn.surrogate).__name__} has no KERNEL_ID, so it cannot cross an operator boundary")
    return (dyn.v_reset, dyn.detach_reset, dyn.decay_input, dyn.leaky, dyn.detach_adaptation, kernel_id, float(dyn.surrogate.alpha))


def _dynamics(v_reset, detach_reset, decay_input, leaky, detach_adaptation, surrogate_id, alpha) -> Dynamics:
    return Dynamics(v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input, leaky=leaky,
                    surrogate=from_kernel_id(surrogate_id, alpha), detach_adaptation=detach_adaptation)  # fmt: skip


def vectors(quantities: tuple, dyn: Dynamics, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Vectors:
    """(k, theta, rho_s, rho_a, beta, v0) in their own shapes -> per-neuron [N] vectors (k zeros without a leak, v0 the rest potential)."""
    k, theta, rho_s, rho_a, beta, v0 = quantities
    n = math.prod(shape)

    def vector(value: Tensor | None, default: float | None) -> Tensor | None:
        if value is None:
            return None if default is None else torch.full((n,), default, dtype=dtype, device=device)
        return per_neuron(value.detach(), shape).to(dtype)

    adaptive = beta is not None
    return Vectors(vector(k if dyn.leaky else None, 0.0), vector(theta, None), vector(rho_s, None),
                   vector(rho_a, None) if adaptive else None, vector(beta, None), vector(v0, dyn.rest))  # fmt: skip


def _param_dtype(kernel: str, x_dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if kernel == "triton" else x_dtype


def forward_impl(x: Tensor, quantities: tuple, backend: str, dyn: Dynamics, keep: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(spikes, H, I, a) for x [T, B, *shape]; H, I and a are empty unless ``keep`` (and the neuron has them)."""
    kernel = selection.select_kernel(backend, x, dyn)
    steps, batch, shape = x.shape[0], x.shape[1], tuple(x.shape[2:])
    n = math.prod(shape)
    synaptic, adaptive = quantities[2] is not None, quantities[4] is not None
    if x.numel() == 0:
        kept = (keep, keep and synaptic, keep and adaptive)
        return torch.empty_like(x), *(torch.empty_like(x) if on else x.new_empty(0) for on in kept)
    vec = vectors(quantities, dyn, shape, _param_dtype(kernel, x.dtype), x.device)
    x2 = x.detach().reshape(steps, batch * n).contiguous()
    spikes, saved = kernel_module(kernel).forward(x2, vec, n, dyn, keep)
    return spikes.view(x.shape), *(x.new_empty(0) if t is None else t.view(x.shape) for t in saved)


def wanted(needs_input_grad: tuple[bool, ...], detach_adaptation: bool) -> list[bool]:
    """Which of (k, theta, rho_s, rho_a, beta, v0) get a gradient: those that need one, except rho_a when a is detached (no path)."""
    return [bool(need) and not (row == 3 and detach_adaptation) for row, need in enumerate(needs_input_grad)]


def _rows(grad: Tensor, steps: int, m: int) -> Tensor:
    """A [T, M] view of a gradient, copied only when its elements are neither contiguous nor broadcast."""
    rows = grad.reshape(steps, m)
    return rows if rows.stride(1) in (0, 1) else rows.contiguous()


def backward_into(
    grad_x: Tensor, grad_s: Tensor, grad_h: Tensor | None, saved: Saved, quantities: tuple, backend: str, dyn: Dynamics,
    needs: tuple[bool, ...],
) -> tuple[Tensor, ...]:  # fmt: skip
    """Write dL/dx into ``grad_x`` (which may be H); return the six quantities' gradients in their shapes, empty where not needed."""
    h = saved.h
    kernel = selection.select_kernel(backend, h, dyn)
    steps, batch, shape = h.shape[0], h.shape[1], tuple(h.shape[2:])
    n = math.prod(shape)
    needs = tuple(bool(need) and value is not None for need, value in zip(needs, quantities))
    if h.numel() == 0:
        return tuple(torch.zeros_like(value) if need else h.new_empty(0) for value, need in zip(quantities, needs))
    vec = vectors(quantities, dyn, shape, _param_dtype(kernel, h.dtype), h.device)
    flat = Saved(*(None if t is None or t.numel() == 0 else t.view(steps, batch * n) for t in saved))
    flat = flat._replace(current=flat.current if vec.synaptic else None, adaptation=flat.adaptation if vec.adaptive else None)
    kernel_needs = (needs[0] and dyn.leaky, *needs[1:])
    _, sums = kernel_module(kernel).backward(
        _rows(grad_s, steps, batch * n), None if grad_h is None else _rows(grad_h, steps, batch * n), flat, vec, n, dyn,
        kernel_needs, grad_x.view(steps, batch * n),
    )  # fmt: skip
    sums = list(sums)
    if kernel_needs[0] and dyn.decay_input:  # the accumulator is dL/dk times k: H_t - V_{t-1} = k (I_t - (V_{t-1} - rest))
        sums[0] = torch.where(vec.k != 0, sums[0] / vec.k, torch.zeros_like(vec.k))
    grads = []
    for value, need, total in zip(quantities, needs, sums):
        if not need:
            grads.append(h.new_empty(0))
        elif total is None:  # a fixed k (IF) has no gradient: zeros
            grads.append(torch.zeros_like(value))
        else:
            grads.append(reduce_to(total.view(shape), value.shape, shape).to(value.dtype))
    return tuple(grads)


@torch.library.custom_op("spikedyn::extended_forward", mutates_args=())
def extended_forward(
    x: Tensor, k: Tensor | None, theta: Tensor, rho_s: Tensor | None, rho_a: Tensor | None, beta: Tensor | None,
    v0: Tensor | None, backend: str, v_reset: float | None, detach_reset: bool, decay_input: bool, leaky: bool,
    detach_adaptation: bool, surrogate_id: int, alpha: float, keep: bool, h_private: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """All T steps of an extended neuron: (spikes, H, I, a) shaped like x; H, I, a empty unless kept."""
    dyn = _dynamics(v_reset, detach_reset, decay_input, leaky, detach_adaptation, surrogate_id, alpha)
    return forward_impl(x, (k, theta, rho_s, rho_a, beta, v0), backend, dyn, keep)


@extended_forward.register_fake
def _(x, k, theta, rho_s, rho_a, beta, v0, backend, v_reset, detach_reset, decay_input, leaky, detach_adaptation,
      surrogate_id, alpha, keep, h_private):  # fmt: skip
    kept = (keep, keep and rho_s is not None, keep and beta is not None)
    return x.new_empty(x.shape), *(x.new_empty(x.shape) if on else x.new_empty(0) for on in kept)


@torch.library.custom_op("spikedyn::extended_backward", mutates_args=())
def extended_backward(
    h: Tensor, current: Tensor, adaptation: Tensor, grad_s: Tensor, grad_h: Tensor | None, k: Tensor | None, theta: Tensor,
    rho_s: Tensor | None, rho_a: Tensor | None, beta: Tensor | None, v0: Tensor | None, backend: str,
    v_reset: float | None, detach_reset: bool, decay_input: bool, leaky: bool, detach_adaptation: bool,
    surrogate_id: int, alpha: float, needs: list[bool],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """(dL/dx, and dL/d each of k, theta, rho_s, rho_a, beta, v0 in its shape) from what the forward kept; unneeded ones empty."""
    dyn = _dynamics(v_reset, detach_reset, decay_input, leaky, detach_adaptation, surrogate_id, alpha)
    grad_x = fresh_like(h)
    quantities = (k, theta, rho_s, rho_a, beta, v0)
    return grad_x, *backward_into(grad_x, grad_s, grad_h, Saved(h, current, adaptation), quantities, backend, dyn, tuple(needs))


@torch.library.custom_op("spikedyn::extended_backward_", mutates_args=("h",))
def extended_backward_(
    h: Tensor, current: Tensor, adaptation: Tensor, grad_s: Tensor, grad_h: Tensor | None, k: Tensor | None, theta: Tensor,
    rho_s: Tensor | None, rho_a: Tensor | None, beta: Tensor | None, v0: Tensor | None, backend: str,
    v_reset: float | None, detach_reset: bool, decay_input: bool, leaky: bool, detach_adaptation: bool,
    surrogate_id: int, alpha: float, needs: list[bool],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """As ``extended_backward``, writing dL/dx over H (its own buffer) instead of a new tensor."""
    dyn = _dynamics(v_reset, detach_reset, decay_input, leaky, detach_adaptation, surrogate_id, alpha)
    quantities = (k, theta, rho_s, rho_a, beta, v0)
    return backward_into(h, grad_s, grad_h, Saved(h, current, adaptation), quantities, backend, dyn, tuple(needs))


def _grads_fake(h: Tensor, quantities: tuple, needs: list[bool]) -> tuple[Tensor, ...]:
    return tuple(value.new_empty(value.shape) if need and value is not None else h.new_empty(0) for value, need in zip(quantities, needs))


@extended_backward.register_fake
def _(h, current, adaptation, grad_s, grad_h, k, theta, rho_s, rho_a, beta, v0, backend, *dyn_args_and_needs):
    return h.new_empty(h.shape), *_grads_fake(h, (k, theta, rho_s, rho_a, beta, v0), dyn_args_and_needs[-1])


@extended_backward_.register_fake
def _(h, current, adaptation, grad_s, grad_h, k, theta, rho_s, rho_a, beta, v0, backend, *dyn_args_and_needs):
    return _grads_fake(h, (k, theta, rho_s, rho_a, beta, v0), dyn_args_and_needs[-1])


def _setup_context(ctx, inputs, output) -> None:
    x, *quantities, backend = inputs[:8]
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(*output[1:], *quantities)
    ctx.backend, ctx.dyn_args, ctx.h_private, ctx.consumed = backend, inputs[8:15], inputs[16], False


def _backward(ctx, grad_s: Tensor | None, grad_h: Tensor | None, *_kept_grads):
    if grad_s is None and grad_h is None:
        return (None,) * 7 + _NOT_DIFFERENTIABLE
    if ctx.consumed:  # before unpacking H, whose version counter would raise a vaguer error
        raise RuntimeError(
            "the fused neuron backend reuses its saved buffer for the input gradient, so its graph "
            "can be backpropagated once; for retain_graph=True use backend='reference' or return_v=True"
        )
    h, current, adaptation, *quantities = ctx.saved_tensors
    needs = wanted(ctx.needs_input_grad[1:7], detach_adaptation=ctx.dyn_args[4])
    if grad_s is None:
        grad_s = h.new_zeros(()).expand(h.shape)
    args = (current, adaptation, grad_s, grad_h, *quantities, ctx.backend, *ctx.dyn_args, needs)
    if ctx.h_private:
        ctx.consumed = True
        grads = torch.ops.spikedyn.extended_backward_(h, *args)
        grad_x = h
    else:
        grad_x, *grads = torch.ops.spikedyn.extended_backward(h, *args)
    need_x = ctx.needs_input_grad[0]
    return (grad_x if need_x else None, *(g if need else None for g, need in zip(grads, needs)), *_NOT_DIFFERENTIABLE)


extended_forward.register_autograd(_backward, setup_context=_setup_context)

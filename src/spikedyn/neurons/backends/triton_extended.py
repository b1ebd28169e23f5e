"""The extended neuron's Triton kernels: one launch runs all T steps forward, one runs them backward.

Same contract as :mod:`torch_extended`, same plan as :mod:`triton_kernel` (read it first): each
program owns a block of neurons of one batch row (forward) or of several rows (backward) and
runs every step over them with the state in registers; float32, bfloat16 or float16 storage
with float32 arithmetic; options as compile-time constants; no FMA contraction, so float32 spikes
equal the reference's torch ops bit for bit. H and a are rounded to their storage type before
they are used, so the backward recomputes exactly the thresholds, spikes and resets the forward
had; I stays float32 in the forward (the backward reads it only for dL/drho_s). The quantities' gradients are summed over the batch per program, then over programs in a
fixed order (no float atomics). Element indices are 64-bit; counts are never specialised.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from spikedyn.neurons.backends import triton_launch as launch
from spikedyn.neurons.backends.torch_extended import Saved, Vectors
from spikedyn.neurons.backends.triton_kernel import (
    INTERPRETER_SLOTS, _charge, _device_limits, _device_scope, _sum_over_chunks, _surrogate_grad,
)  # fmt: skip
from spikedyn.neurons.dynamics import Dynamics

# Triton turns an int argument equal to 1 into a constant (no .to()); these counts are never specialised,
# and the feature size goes through tl.cast, which takes both (see triton_kernel).
_COUNTS = ("steps", "batch", "col_blocks", "rows_per_program", "chunks")
_SLOTS: dict[tuple, int] = {}


@triton.jit
def _quantity(p_ptr, row: tl.constexpr, n64, cols, mask):
    return tl.load(p_ptr + row * n64 + cols, mask=mask, other=0.0).to(tl.float32)


@triton.jit
def _stored(value, ptr):
    """``value`` rounded to the storage type of ``ptr`` and back: what the backward will read."""
    return value.to(ptr.dtype.element_ty).to(tl.float32)


@triton.jit
def _reset_from(h, threshold, rest, HARD_RESET: tl.constexpr):
    spike = (h - threshold >= 0.0).to(tl.float32)
    if HARD_RESET:
        v = h * (1.0 - spike) + rest * spike
    else:
        v = h - threshold * spike
    return v


@triton.jit(do_not_specialize=_COUNTS, do_not_specialize_on_alignment=_COUNTS)
def _forward_kernel(
    x_ptr, p_ptr, s_ptr, h_ptr, i_ptr, a_ptr, steps, batch, n, col_blocks, rest,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, SYNAPTIC: tl.constexpr,
    ADAPTIVE: tl.constexpr, KEEP: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    n64 = tl.cast(n, tl.int64)
    cols = (pid % col_blocks) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n
    k, theta = _quantity(p_ptr, 0, n64, cols, mask), _quantity(p_ptr, 1, n64, cols, mask)
    rho_s, rho_a, beta = _quantity(p_ptr, 2, n64, cols, mask), _quantity(p_ptr, 3, n64, cols, mask), _quantity(p_ptr, 4, n64, cols, mask)
    v = _quantity(p_ptr, 5, n64, cols, mask)
    offsets = (pid // col_blocks).to(tl.int64) * n64 + cols
    step_stride = batch.to(tl.int64) * n64
    current = tl.zeros([BLOCK], dtype=tl.float32)
    adaptation = tl.zeros([BLOCK], dtype=tl.float32)
    for t in range(steps):
        at = t * step_stride + offsets
        drive = tl.load(x_ptr + at, mask=mask, other=0.0).to(tl.float32)
        if SYNAPTIC:
            current = rho_s * current + drive  # kept in float32: the backward needs I only for dL/drho_s
            drive = current
        h = _stored(_charge(v, drive, k, rest, LEAKY, DECAY_INPUT), s_ptr)
        threshold = theta + beta * adaptation if ADAPTIVE else theta
        spike = (h - threshold >= 0.0).to(tl.float32)
        tl.store(s_ptr + at, spike.to(s_ptr.dtype.element_ty), mask=mask)
        v = _reset_from(h, threshold, rest, HARD_RESET)
        if ADAPTIVE:
            adaptation = _stored(rho_a * adaptation + spike, a_ptr)
        if KEEP:
            tl.store(h_ptr + at, h.to(h_ptr.dtype.element_ty), mask=mask)
            if SYNAPTIC:
                tl.store(i_ptr + at, current.to(i_ptr.dtype.element_ty), mask=mask)
            if ADAPTIVE:
                tl.store(a_ptr + at, adaptation.to(a_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _partial(part_ptr, row: tl.constexpr, chunks, chunk, n64, cols, value, NEED: tl.constexpr):
    if (NEED >> row) & 1:
        tl.store(part_ptr + (row * chunks.to(tl.int64) + chunk) * n64 + cols, value, mask=cols < n64)


@triton.jit(do_not_specialize=_COUNTS, do_not_specialize_on_alignment=_COUNTS)
def _backward_kernel(
    gs_ptr, gs_step_stride, gh_ptr, h_ptr, i_ptr, a_ptr, p_ptr, gx_ptr, part_ptr,
    steps, batch, n, col_blocks, rows_per_program, chunks, rest, alpha, c,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, DETACH_RESET: tl.constexpr,
    SYNAPTIC: tl.constexpr, ADAPTIVE: tl.constexpr, COUPLED: tl.constexpr, SURROGATE: tl.constexpr,
    HAS_GH: tl.constexpr, NEED: tl.constexpr, GS_ELEMENT_STRIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    n64 = tl.cast(n, tl.int64)
    cols = (pid % col_blocks) * BLOCK + tl.arange(0, BLOCK)
    k, theta = _quantity(p_ptr, 0, n64, cols, cols < n), _quantity(p_ptr, 1, n64, cols, cols < n)
    rho_s, rho_a, beta = _quantity(p_ptr, 2, n64, cols, cols < n), _quantity(p_ptr, 3, n64, cols, cols < n), _quantity(p_ptr, 4, n64, cols, cols < n)
    v_start = _quantity(p_ptr, 5, n64, cols, cols < n)
    chunk = (pid // col_blocks).to(tl.int64)
    step_stride = batch.to(tl.int64) * n64
    gs_step = tl.cast(gs_step_stride, tl.int64)
    sums_k, sums_theta = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
    sums_rho_s, sums_rho_a = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
    sums_beta, sums_v0 = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
    for r in range(rows_per_program):
        row = chunk * rows_per_program + r
        limit = tl.where(row < batch, n, 0)
        mask = cols < limit
        offsets = row * n64 + cols
        g_v, g_i, g_a = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
        acc_k, acc_theta = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
        acc_rho_s, acc_rho_a, acc_beta = tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32), tl.zeros([BLOCK], dtype=tl.float32)
        h = tl.load(h_ptr + (steps - 1) * step_stride + offsets, mask=mask, other=0.0).to(tl.float32)
        a_last = tl.zeros([BLOCK], dtype=tl.float32)
        threshold = theta
        if ADAPTIVE:
            a_last = tl.load(a_ptr + (steps - 2) * step_stride + offsets, mask=cols < tl.where(steps > 1, limit, 0), other=0.0).to(tl.float32)
            threshold = theta + beta * a_last
        for i in range(steps):
            t = steps - 1 - i
            h_prev = tl.load(h_ptr + (t - 1) * step_stride + offsets, mask=cols < tl.where(t > 0, limit, 0), other=0.0).to(tl.float32)
            threshold_prev = theta
            a_prev = a_last
            if ADAPTIVE:
                a_last = tl.load(a_ptr + (t - 2) * step_stride + offsets, mask=cols < tl.where(t > 1, limit, 0), other=0.0).to(tl.float32)
                threshold_prev = theta + beta * a_last
            v_prev = tl.where(t > 0, _reset_from(h_prev, threshold_prev, rest, HARD_RESET), v_start)
            z = h - threshold
            sg = _surrogate_grad(z, alpha, c, SURROGATE)
            spike = (z >= 0.0).to(tl.float32)
            g_s = tl.load(gs_ptr + t * gs_step + offsets * GS_ELEMENT_STRIDE, mask=mask, other=0.0).to(tl.float32)
            if COUPLED:
                g_s += g_a
            if HARD_RESET:
                dv_dh = 1.0 - spike if DETACH_RESET else (1.0 - spike) + (rest - h) * sg
                dv_da = tl.zeros([BLOCK], dtype=tl.float32) if DETACH_RESET else (h - rest) * sg
            else:
                dv_dh = tl.full([BLOCK], 1.0, tl.float32) if DETACH_RESET else 1.0 - threshold * sg
                dv_da = tl.zeros([BLOCK], dtype=tl.float32) if DETACH_RESET else threshold * sg - spike
            at = t * step_stride + offsets
            g_h = g_s * sg + g_v * dv_dh
            if HAS_GH:
                g_h += tl.load(gh_ptr + at, mask=mask, other=0.0).to(tl.float32)
            g_th = g_v * dv_da - g_s * sg
            acc_theta += g_th
            if ADAPTIVE:
                acc_beta += g_th * a_prev
                if COUPLED:
                    acc_rho_a += g_a * a_prev
                    g_a = rho_a * g_a + beta * g_th
            acc_k += g_h * ((h - v_prev) if DECAY_INPUT else (rest - v_prev))
            g_v = g_h * (1.0 - k) if LEAKY else g_h
            g_x = g_h * k if DECAY_INPUT else g_h
            if SYNAPTIC:
                g_x += g_i
                i_prev = tl.load(i_ptr + (t - 1) * step_stride + offsets, mask=cols < tl.where(t > 0, limit, 0), other=0.0)
                acc_rho_s += g_x * i_prev.to(tl.float32)
                g_i = rho_s * g_x
            tl.store(gx_ptr + at, g_x.to(gx_ptr.dtype.element_ty), mask=mask)
            h = h_prev
            threshold = threshold_prev
        sums_k += tl.where(mask, acc_k, 0.0)
        sums_theta += tl.where(mask, acc_theta, 0.0)
        sums_rho_s += tl.where(mask, acc_rho_s, 0.0)
        sums_rho_a += tl.where(mask, acc_rho_a, 0.0)
        sums_beta += tl.where(mask, acc_beta, 0.0)
        sums_v0 += tl.where(mask, g_v, 0.0)
    _partial(part_ptr, 0, chunks, chunk, n64, cols, sums_k, NEED)
    _partial(part_ptr, 1, chunks, chunk, n64, cols, sums_theta, NEED)
    _partial(part_ptr, 2, chunks, chunk, n64, cols, sums_rho_s, NEED)
    _partial(part_ptr, 3, chunks, chunk, n64, cols, sums_rho_a, NEED)
    _partial(part_ptr, 4, chunks, chunk, n64, cols, sums_beta, NEED)
    _partial(part_ptr, 5, chunks, chunk, n64, cols, sums_v0, NEED)


def _params(vec: Vectors) -> torch.Tensor:
    """The [6, N] float32 array of the per-neuron quantities (zeros where the neuron has none)."""
    rows = [vec.k, vec.threshold, vec.synaptic_decay, vec.adaptation_decay, vec.adaptation_strength, vec.v0]
    zeros = torch.zeros_like(vec.k)
    return torch.stack([zeros if row is None else row for row in rows]).float()


def _common_options(dyn: Dynamics, vec: Vectors, block: int) -> dict:
    return dict(LEAKY=dyn.leaky, DECAY_INPUT=dyn.decay_input and dyn.leaky, HARD_RESET=dyn.hard_reset, SYNAPTIC=vec.synaptic,
                ADAPTIVE=vec.adaptive, BLOCK=block, num_warps=launch.num_warps(block), enable_fp_fusion=False)  # fmt: skip


def forward(x: torch.Tensor, vec: Vectors, n: int, dyn: Dynamics, keep: bool = True) -> tuple[torch.Tensor, Saved]:
    """Spikes and (with ``keep``) H, I, a, all [T, M] in x's dtype, from a contiguous x [T, M]."""
    steps, m = x.shape
    spikes = torch.empty_like(x)
    saved = Saved(*(torch.empty_like(x) if keep and on else None for on in (True, vec.synaptic, vec.adaptive)))
    block = launch.block_size(n)
    col_blocks = triton.cdiv(n, block)
    stand_in = spikes if saved.h is None else saved.h
    pointers = (stand_in, *(stand_in if t is None else t for t in saved[1:]))
    with _device_scope(x):
        _forward_kernel[(col_blocks * (m // n),)](
            x, _params(vec), spikes, *pointers, steps, m // n, n, col_blocks, float(dyn.rest),
            KEEP=keep, **_common_options(dyn, vec, block),
        )  # fmt: skip
    return spikes, saved


def _program_slots(device: torch.device, args: tuple, options: dict) -> int:
    """Backward programs the device runs at once, from the registers of the kernel these arguments compile to."""
    if device.type != "cuda":
        return INTERPRETER_SLOTS
    named = dict(zip(_backward_kernel.arg_names, args))
    key = (device.index, tuple(a.dtype for a in args if isinstance(a, torch.Tensor)), tuple(options.items()),
           named["n"] % 16 == 0, named["gs_step_stride"] % 16 == 0)  # fmt: skip
    if key not in _SLOTS:
        compiled = _backward_kernel.warmup(*args, grid=(1,), **options)
        compiled._init_handles()  # loads the binary, which sets n_regs and n_spills
        limits = _device_limits(device.index)
        _SLOTS[key] = max(1, launch.programs_per_sm(launch.kernel_resources(compiled), limits)) * limits.sms
    return _SLOTS[key]


def backward(
    grad_s: torch.Tensor, grad_h: torch.Tensor | None, saved: Saved, vec: Vectors, n: int, dyn: Dynamics,
    needs: tuple[bool, ...], grad_x: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:  # fmt: skip
    """Closed-form backward in one launch (plus the fixed-order batch sums); see :func:`torch_extended.backward`."""
    h = saved.h
    steps, m = h.shape
    batch = m // n
    if grad_s.stride(1) not in (0, 1):
        grad_s = grad_s.contiguous()
    grad_h = None if grad_h is None else grad_h.contiguous()
    block = launch.block_size(n)
    col_blocks = triton.cdiv(n, block)
    alpha = float(dyn.surrogate.alpha)
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha
    need_mask = sum(1 << row for row, need in enumerate(needs) if need)
    options = dict(DETACH_RESET=dyn.detach_reset, COUPLED=vec.adaptive and not dyn.detach_adaptation, SURROGATE=int(dyn.surrogate.KERNEL_ID),
                   HAS_GH=grad_h is not None, NEED=need_mask, GS_ELEMENT_STRIDE=grad_s.stride(1), **_common_options(dyn, vec, block))  # fmt: skip
    params = _params(vec)

    def arguments(partials: torch.Tensor, rows: int) -> tuple:
        return (grad_s, grad_s.stride(0), h if grad_h is None else grad_h, h, *(h if t is None else t for t in saved[1:]), params,
                grad_x, partials, steps, batch, n, col_blocks, rows, triton.cdiv(batch, rows), float(dyn.rest), alpha, c)  # fmt: skip

    with _device_scope(h):
        rows = 1
        if need_mask:
            stand_in = torch.empty(1, dtype=torch.float32, device=h.device)
            row_bytes = (3 + (grad_h is not None) + vec.synaptic + vec.adaptive) * steps * block * h.element_size()
            slots = _program_slots(h.device, arguments(stand_in, 1), options)
            rows = launch.backward_rows(batch, col_blocks, slots, row_bytes, 4 * bin(need_mask).count("1") * n)
        chunks = triton.cdiv(batch, rows)
        partials = torch.empty((6, chunks, n) if need_mask else (1,), dtype=torch.float32, device=h.device)
        _backward_kernel[(col_blocks * chunks,)](*arguments(partials, rows), **options)
        sums = tuple(_sum_over_chunks(partials[row]) if need else None for row, need in enumerate(needs))
    return grad_x, sums

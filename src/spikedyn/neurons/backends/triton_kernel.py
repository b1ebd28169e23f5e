"""The fused backend's Triton kernels: one launch runs all T steps forward, one runs them backward.

Same contract as :mod:`torch_kernel`. Each program owns a block of neurons of one or more
batch rows and runs every time step over them, so the membrane potential lives in registers
while x, S and H stream through memory once: the forward reads x and writes S and H, the
backward reads the spike gradient and H and writes the input gradient (into H's own buffer
when H is private). Storage is float32, bfloat16 or float16; arithmetic is float32. H is
rounded to its storage type before it fires, so the backward recomputes exactly the spikes
and resets the forward produced. Floating-point contraction (FMA) is off, so float32 spikes
equal the reference's torch ops bit for bit.

Options are compile-time constants (one specialised kernel per combination, no branch per
step), k and V_{-1} are read from device memory (no host synchronisation), and the sums over
the batch for dL/da and dL/dV_{-1} are made in a fixed order, per program over its rows and
then over programs by :func:`_sum_chunks`: no float atomics, so gradients are bit-reproducible.
The backward's rows per program come from the compiled kernel's registers (:mod:`triton_launch`).
Element indices are 64-bit (T*B*N may pass 2^31); column indices are 32-bit.

Triton's interpreter runs the same kernels on CPU tensors when ``TRITON_INTERPRET=1`` is set
before this module is imported (slow; for tests).
"""

from __future__ import annotations

import contextlib
import functools
import math

import torch
import triton
import triton.language as tl

from spikedyn.neurons.backends import triton_launch as launch
from spikedyn.neurons.dynamics import Dynamics

STORAGE_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
MAX_FEATURES = 2**31 - launch.MAX_BLOCK  # neurons per sample: column indices are 32-bit
INTERPRETER_SLOTS = 16  # programs "at once" under the interpreter: a few, so that backward programs sum several rows
# Triton turns an int argument equal to 1 into a constant, which has no .to(). The counts are never specialised
# (nor on divisibility, which no address needs: one kernel variant for any batch or rows_per_program); the feature
# size and strides keep it (divisibility by 16 vectorises loads and stores) and go through tl.cast, which takes both.
_COUNTS = ("steps", "batch", "col_blocks", "rows_per_program", "chunks")


def check_input(x: torch.Tensor, dyn: Dynamics) -> None:
    """Raise a clear error for inputs these kernels cannot run."""
    if x.device.type != "cuda" and not (INTERPRETED and x.device.type == "cpu"):
        raise RuntimeError(
            f"backend='triton' runs on CUDA tensors, got a tensor on {x.device.type}; use backend='fused' "
            "there, or set TRITON_INTERPRET=1 before triton is imported to run the kernels on the CPU (slow, for tests)"
        )
    if x.dtype not in STORAGE_DTYPES:
        raise TypeError(f"backend='triton' stores float32, bfloat16 or float16, got {x.dtype}; use backend='fused'")
    if math.prod(x.shape[2:]) > MAX_FEATURES:
        raise ValueError(f"backend='triton' takes at most {MAX_FEATURES} neurons per sample, got {math.prod(x.shape[2:])}")
    if dyn.surrogate.KERNEL_ID is None:
        raise TypeError(
            f"backend='triton' evaluates the built-in surrogates only, got {type(dyn.surrogate).__name__}; "
            "use backend='fused' for a user-defined surrogate"
        )


@triton.jit
def _charge(v, x, k, rest, LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr):
    if LEAKY:
        if DECAY_INPUT:
            h = v + k * (x - (v - rest))
        else:
            h = v - k * (v - rest) + x
    else:
        h = v + x
    return h


@triton.jit
def _reset(h, v_threshold, rest, HARD_RESET: tl.constexpr):
    spike = (h >= v_threshold).to(tl.float32)
    if HARD_RESET:
        v = h * (1.0 - spike) + rest * spike
    else:
        v = h - v_threshold * spike
    return v


@triton.jit
def _surrogate_grad(z, alpha, c, SURROGATE: tl.constexpr):
    # c is pi/2 * alpha for ATan and the half-width 1 / (2 alpha) for Rectangular.
    if SURROGATE == 0:
        q = c * z
        sg = alpha * 0.5 / (1.0 + q * q)
    elif SURROGATE == 1:
        sig = 1.0 / (1.0 + tl.exp(-alpha * z))
        sg = alpha * sig * (1.0 - sig)
    elif SURROGATE == 2:
        sg = alpha * tl.maximum(1.0 - alpha * tl.abs(z), 0.0)
    else:
        sg = tl.where(tl.abs(z) < c, alpha, 0.0)
    return sg


@triton.jit
def _program_neurons(k_ptr, v0_ptr, n, col_blocks, BLOCK: tl.constexpr):
    """This program's chunk of batch rows (int64), its block of neurons, and their k and V_{-1}."""
    pid = tl.program_id(0)
    cols = (pid % col_blocks) * BLOCK + tl.arange(0, BLOCK)
    k = tl.load(k_ptr + cols, mask=cols < n, other=0.0).to(tl.float32)
    v_start = tl.load(v0_ptr + cols, mask=cols < n, other=0.0).to(tl.float32)
    return (pid // col_blocks).to(tl.int64), cols, k, v_start


@triton.jit(do_not_specialize=_COUNTS, do_not_specialize_on_alignment=_COUNTS)
def _forward_kernel(
    x_ptr, k_ptr, v0_ptr, s_ptr, h_ptr,
    steps, batch, n, col_blocks, v_threshold, rest,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, KEEP_H: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    row, cols, k, v_start = _program_neurons(k_ptr, v0_ptr, n, col_blocks, BLOCK)
    step_stride = batch.to(tl.int64) * n
    mask = cols < n
    offsets = row * n + cols
    v = v_start
    for t in range(steps):
        at = t * step_stride + offsets
        x = tl.load(x_ptr + at, mask=mask, other=0.0).to(tl.float32)
        h = _charge(v, x, k, rest, LEAKY, DECAY_INPUT)
        h = h.to(s_ptr.dtype.element_ty).to(tl.float32)
        tl.store(s_ptr + at, (h >= v_threshold).to(tl.float32).to(s_ptr.dtype.element_ty), mask=mask)
        if KEEP_H:
            tl.store(h_ptr + at, h.to(h_ptr.dtype.element_ty), mask=mask)
        v = _reset(h, v_threshold, rest, HARD_RESET)


@triton.jit(do_not_specialize=_COUNTS, do_not_specialize_on_alignment=_COUNTS)
def _backward_kernel(
    gs_ptr, gs_step_stride, gh_ptr, h_ptr, k_ptr, v0_ptr, gx_ptr, acc_ptr, gv_ptr,
    steps, batch, n, col_blocks, rows_per_program, v_threshold, rest, alpha, c,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, DETACH_RESET: tl.constexpr,
    SURROGATE: tl.constexpr, HAS_GH: tl.constexpr, NEED_K: tl.constexpr, NEED_V0: tl.constexpr,
    GS_ELEMENT_STRIDE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    chunk, cols, k, v_start = _program_neurons(k_ptr, v0_ptr, n, col_blocks, BLOCK)
    step_stride = batch.to(tl.int64) * n
    gs_step = tl.cast(gs_step_stride, tl.int64)
    acc_sum = tl.zeros([BLOCK], dtype=tl.float32)
    gv_sum = tl.zeros([BLOCK], dtype=tl.float32)
    for r in range(rows_per_program):
        row = chunk * rows_per_program + r
        limit = tl.where(row < batch, n, 0)
        mask = cols < limit
        offsets = row * n + cols
        grad_v = tl.zeros([BLOCK], dtype=tl.float32)
        acc = tl.zeros([BLOCK], dtype=tl.float32)
        h = tl.load(h_ptr + (steps - 1) * step_stride + offsets, mask=mask, other=0.0).to(tl.float32)
        for i in range(steps):
            t = steps - 1 - i
            h_prev = tl.load(h_ptr + (t - 1) * step_stride + offsets, mask=cols < tl.where(t > 0, limit, 0), other=0.0).to(tl.float32)
            v_prev = tl.where(t > 0, _reset(h_prev, v_threshold, rest, HARD_RESET), v_start)
            sg = _surrogate_grad(h - v_threshold, alpha, c, SURROGATE)
            if HARD_RESET:
                dv_dh = 1.0 - (h >= v_threshold).to(tl.float32)
                if not DETACH_RESET:
                    dv_dh = dv_dh + (rest - h) * sg
            elif DETACH_RESET:
                dv_dh = tl.full([BLOCK], 1.0, tl.float32)
            else:
                dv_dh = 1.0 - v_threshold * sg
            gs_at = gs_ptr + t * gs_step + offsets * GS_ELEMENT_STRIDE
            g = tl.load(gs_at, mask=mask, other=0.0).to(tl.float32) * sg + grad_v * dv_dh
            at = t * step_stride + offsets
            if HAS_GH:
                g = g + tl.load(gh_ptr + at, mask=mask, other=0.0).to(tl.float32)
            if NEED_K:
                if DECAY_INPUT:
                    acc += g * (h - v_prev)
                else:
                    acc += g * (rest - v_prev)
            if LEAKY:
                grad_v = g * (1.0 - k)
                if DECAY_INPUT:
                    g = g * k
            else:
                grad_v = g
            tl.store(gx_ptr + at, g.to(gx_ptr.dtype.element_ty), mask=mask)
            h = h_prev
        acc_sum += tl.where(mask, acc, 0.0)
        gv_sum += tl.where(mask, grad_v, 0.0)
    if NEED_K:
        tl.store(acc_ptr + chunk * n + cols, acc_sum, mask=cols < n)
    if NEED_V0:
        tl.store(gv_ptr + chunk * n + cols, gv_sum, mask=cols < n)


@triton.jit(do_not_specialize=_COUNTS, do_not_specialize_on_alignment=_COUNTS)
def _sum_chunks(part_ptr, out_ptr, chunks, n, BLOCK: tl.constexpr):
    cols = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n
    n64 = tl.cast(n, tl.int64)
    total = tl.zeros([BLOCK], dtype=tl.float32)
    for chunk in range(chunks):
        total += tl.load(part_ptr + chunk * n64 + cols, mask=mask, other=0.0)
    tl.store(out_ptr + cols, total, mask=mask)


INTERPRETED = not isinstance(_forward_kernel, triton.runtime.JITFunction)
_SLOTS: dict[tuple, int] = {}


def _device_scope(t: torch.Tensor) -> contextlib.AbstractContextManager:
    return torch.cuda.device(t.device) if t.device.type == "cuda" else contextlib.nullcontext()


@functools.lru_cache(maxsize=16)
def _device_limits(index: int) -> launch.DeviceLimits:
    return launch.limits_from_properties(torch.cuda.get_device_properties(index))


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


def _rows_per_program(
    batch: int, col_blocks: int, device: torch.device, launch_args: tuple = (), options: dict | None = None,
    row_bytes: int = 1, chunk_bytes: int = 0,
) -> int:  # fmt: skip
    """Rows each backward program sums over: whole waves of programs, few partial sums (see :mod:`triton_launch`)."""
    slots = _program_slots(device, launch_args, options or {})
    return launch.backward_rows(batch, col_blocks, slots, row_bytes, chunk_bytes)


def forward_launch(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, spikes: torch.Tensor, potentials: torch.Tensor | None,
    n: int, dyn: Dynamics,
) -> tuple[tuple[int], tuple, dict]:  # fmt: skip
    """The forward kernel's grid, arguments and compile options for x [T, M] (shapes only: meta tensors do)."""
    steps, m = x.shape
    batch = m // n
    block = launch.block_size(n)
    col_blocks = triton.cdiv(n, block)
    args = (x, k, v0, spikes, spikes if potentials is None else potentials,
            steps, batch, n, col_blocks, float(dyn.v_threshold), float(dyn.rest))  # fmt: skip
    options = dict(
        LEAKY=dyn.leaky, DECAY_INPUT=dyn.decay_input and dyn.leaky, HARD_RESET=dyn.hard_reset, KEEP_H=potentials is not None,
        BLOCK=block, num_warps=launch.num_warps(block), enable_fp_fusion=False,
    )  # fmt: skip
    return (col_blocks * batch,), args, options


def backward_launch(
    grad_s: torch.Tensor, grad_h: torch.Tensor | None, h: torch.Tensor, k: torch.Tensor, v0: torch.Tensor,
    grad_x: torch.Tensor, partials: tuple[torch.Tensor, torch.Tensor], n: int, dyn: Dynamics,
    need_k: bool, need_v0: bool, rows: int,
) -> tuple[tuple[int], tuple, dict]:  # fmt: skip
    """The backward kernel's grid, arguments and compile options; ``partials``: the [chunks, N] sums or stand-ins."""
    steps, m = h.shape
    batch = m // n
    block = launch.block_size(n)
    col_blocks = triton.cdiv(n, block)
    alpha = float(dyn.surrogate.alpha)
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha
    args = (grad_s, grad_s.stride(0), h if grad_h is None else grad_h, h, k, v0, grad_x, *partials,
            steps, batch, n, col_blocks, rows, float(dyn.v_threshold), float(dyn.rest), alpha, c)  # fmt: skip
    options = dict(
        LEAKY=dyn.leaky, DECAY_INPUT=dyn.decay_input and dyn.leaky, HARD_RESET=dyn.hard_reset,
        DETACH_RESET=dyn.detach_reset, SURROGATE=int(dyn.surrogate.KERNEL_ID), HAS_GH=grad_h is not None,
        NEED_K=need_k and dyn.leaky, NEED_V0=need_v0, GS_ELEMENT_STRIDE=grad_s.stride(1), BLOCK=block,
        num_warps=launch.num_warps(block), enable_fp_fusion=False,
    )  # fmt: skip
    return (col_blocks * triton.cdiv(batch, rows),), args, options


def forward(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, n: int, dyn: Dynamics, keep_h: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Spikes and (with ``keep_h``) H, both [T, M] in x's dtype, from a contiguous x [T, M]."""
    spikes = torch.empty_like(x)
    potentials = torch.empty_like(x) if keep_h else None
    grid, args, options = forward_launch(x, k, v0, spikes, potentials, n, dyn)
    with _device_scope(x):
        _forward_kernel[grid](*args, **options)
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
    """Closed-form backward in one launch (plus the fixed-order batch sums); see :func:`torch_kernel.backward`."""
    steps, m = h.shape
    batch = m // n
    need_k = need_k and dyn.leaky
    if grad_s.stride(1) not in (0, 1):
        grad_s = grad_s.contiguous()
    grad_h = None if grad_h is None else grad_h.contiguous()
    sums = int(need_k) + int(need_v0)
    with _device_scope(h):
        rows = 1
        if sums:
            stand_in = torch.empty(1, dtype=torch.float32, device=h.device)
            stand_ins = tuple(stand_in if need else h for need in (need_k, need_v0))
            _, args, options = backward_launch(grad_s, grad_h, h, k, v0, grad_x, stand_ins, n, dyn, need_k, need_v0, 1)
            block = options["BLOCK"]
            row_bytes = (3 + (grad_h is not None)) * steps * block * h.element_size()
            rows = _rows_per_program(batch, triton.cdiv(n, block), h.device, args, options, row_bytes, 8 * sums * n)
        chunks = triton.cdiv(batch, rows)
        partials = tuple(torch.empty((chunks, n), dtype=torch.float32, device=h.device) if need else h
                         for need in (need_k, need_v0))  # fmt: skip
        grid, args, options = backward_launch(grad_s, grad_h, h, k, v0, grad_x, partials, n, dyn, need_k, need_v0, rows)
        _backward_kernel[grid](*args, **options)
        acc_sum = _sum_over_chunks(partials[0]) if need_k else None
        gv_sum = _sum_over_chunks(partials[1]) if need_v0 else None
    return grad_x, acc_sum, gv_sum


def _sum_over_chunks(partial: torch.Tensor) -> torch.Tensor:
    """[chunks, N] -> [N], summed in chunk order."""
    chunks, n = partial.shape
    if chunks == 1:
        return partial[0]
    out = torch.empty(n, dtype=partial.dtype, device=partial.device)
    block = min(1024, max(16, triton.next_power_of_2(n)))
    _sum_chunks[(triton.cdiv(n, block),)](partial, out, chunks, n, BLOCK=block, enable_fp_fusion=False)
    return out

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

Triton's interpreter runs the same kernels on CPU tensors when ``TRITON_INTERPRET=1`` is set
before this module is imported (slow; for tests).
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from spikedyn.neurons.dynamics import Dynamics

STORAGE_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
MAX_BLOCK = 512
PROGRAMS_PER_SM = 16


def check_input(x: torch.Tensor, dyn: Dynamics) -> None:
    """Raise a clear error for inputs these kernels cannot run."""
    if x.device.type != "cuda" and not (INTERPRETED and x.device.type == "cpu"):
        raise RuntimeError(
            f"backend='triton' runs on CUDA tensors, got a tensor on {x.device.type}; use backend='fused' "
            "there, or set TRITON_INTERPRET=1 before triton is imported to run the kernels on the CPU (slow, for tests)"
        )
    if x.dtype not in STORAGE_DTYPES:
        raise TypeError(f"backend='triton' stores float32, bfloat16 or float16, got {x.dtype}; use backend='fused'")
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
    """This program's chunk of batch rows, its block of neurons, and their k and V_{-1}."""
    pid = tl.program_id(0)
    cols = (pid % col_blocks) * BLOCK + tl.arange(0, BLOCK)
    k = tl.load(k_ptr + cols, mask=cols < n, other=0.0).to(tl.float32)
    v_start = tl.load(v0_ptr + cols, mask=cols < n, other=0.0).to(tl.float32)
    return pid // col_blocks, cols, k, v_start


@triton.jit
def _forward_kernel(
    x_ptr, k_ptr, v0_ptr, s_ptr, h_ptr,
    steps, batch, n, col_blocks, rows_per_program, v_threshold, rest,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, KEEP_H: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    chunk, cols, k, v_start = _program_neurons(k_ptr, v0_ptr, n, col_blocks, BLOCK)
    step_stride = batch.to(tl.int64) * n
    for r in range(rows_per_program):
        row = chunk * rows_per_program + r
        mask = cols < tl.where(row < batch, n, 0)  # not (cols < n) & ...: the interpreter's & of int1s is not bool
        offsets = row.to(tl.int64) * n + cols
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


@triton.jit
def _backward_kernel(
    gs_ptr, gs_step_stride, gs_element_stride, gh_ptr, h_ptr, k_ptr, v0_ptr, gx_ptr, acc_ptr, gv_ptr,
    steps, batch, n, col_blocks, rows_per_program, v_threshold, rest, alpha, c,
    LEAKY: tl.constexpr, DECAY_INPUT: tl.constexpr, HARD_RESET: tl.constexpr, DETACH_RESET: tl.constexpr,
    SURROGATE: tl.constexpr, HAS_GH: tl.constexpr, NEED_K: tl.constexpr, NEED_V0: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    chunk, cols, k, v_start = _program_neurons(k_ptr, v0_ptr, n, col_blocks, BLOCK)
    step_stride = batch.to(tl.int64) * n
    acc_sum = tl.zeros([BLOCK], dtype=tl.float32)
    gv_sum = tl.zeros([BLOCK], dtype=tl.float32)
    for r in range(rows_per_program):
        row = chunk * rows_per_program + r
        limit = tl.where(row < batch, n, 0)
        mask = cols < limit
        offsets = row.to(tl.int64) * n + cols
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
            gs_at = gs_ptr + t * gs_step_stride + offsets * gs_element_stride
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


@triton.jit
def _sum_chunks(part_ptr, out_ptr, chunks, n, BLOCK: tl.constexpr):
    cols = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n
    total = tl.zeros([BLOCK], dtype=tl.float32)
    for chunk in range(chunks):
        total += tl.load(part_ptr + chunk * n + cols, mask=mask, other=0.0)
    tl.store(out_ptr + cols, total, mask=mask)


INTERPRETED = not isinstance(_forward_kernel, triton.runtime.JITFunction)



def _block(n: int) -> int:
    return min(MAX_BLOCK, max(16, triton.next_power_of_2(n)))


def _warps(block: int) -> int:
    return max(1, min(4, block // 128))


def _rows_per_program(batch: int, col_blocks: int, device: torch.device) -> int:
    """Rows each backward program sums over: enough programs to fill the device, few partial sums."""
    sms = 4 if device.type != "cuda" else torch.cuda.get_device_properties(device).multi_processor_count
    return max(1, min(batch, batch * col_blocks // (PROGRAMS_PER_SM * sms)))


def _device_scope(t: torch.Tensor):
    return torch.cuda.device(t.device) if t.device.type == "cuda" else _NullScope()


class _NullScope:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def forward(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, n: int, dyn: Dynamics, keep_h: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Spikes and (with ``keep_h``) H, both [T, M] in x's dtype, from a contiguous x [T, M]."""
    steps, m = x.shape
    batch = m // n
    spikes = torch.empty_like(x)
    potentials = torch.empty_like(x) if keep_h else None
    block = _block(n)
    col_blocks = triton.cdiv(n, block)
    with _device_scope(x):
        _forward_kernel[(col_blocks * batch,)](
            x, k, v0, spikes, spikes if potentials is None else potentials,
            steps, batch, n, col_blocks, 1, float(dyn.v_threshold), float(dyn.rest),
            LEAKY=dyn.leaky, DECAY_INPUT=dyn.decay_input, HARD_RESET=dyn.hard_reset, KEEP_H=keep_h,
            BLOCK=block, num_warps=_warps(block), enable_fp_fusion=False,
        )  # fmt: skip
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
    block = _block(n)
    col_blocks = triton.cdiv(n, block)
    rows = _rows_per_program(batch, col_blocks, h.device) if (need_k or need_v0) else 1
    chunks = triton.cdiv(batch, rows)
    partial = torch.empty((2, chunks, n), dtype=torch.float32, device=h.device) if (need_k or need_v0) else h
    grad_h_rows = h if grad_h is None else grad_h.contiguous()
    alpha = float(dyn.surrogate.alpha)
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha
    with _device_scope(h):
        _backward_kernel[(col_blocks * chunks,)](
            grad_s, grad_s.stride(0), grad_s.stride(1), grad_h_rows, h, k, v0, grad_x, partial[0], partial[-1],
            steps, batch, n, col_blocks, rows, float(dyn.v_threshold), float(dyn.rest), alpha, c,
            LEAKY=dyn.leaky, DECAY_INPUT=dyn.decay_input, HARD_RESET=dyn.hard_reset,
            DETACH_RESET=dyn.detach_reset, SURROGATE=int(dyn.surrogate.KERNEL_ID), HAS_GH=grad_h is not None,
            NEED_K=need_k, NEED_V0=need_v0, BLOCK=block, num_warps=_warps(block), enable_fp_fusion=False,
        )  # fmt: skip
        acc_sum = _sum_over_chunks(partial[0]) if need_k else None
        gv_sum = _sum_over_chunks(partial[1]) if need_v0 else None
    return grad_x, acc_sum, gv_sum


def _sum_over_chunks(partial: torch.Tensor) -> torch.Tensor:
    """[chunks, N] -> [N], summed in chunk order."""
    chunks, n = partial.shape
    if chunks == 1:
        return partial[0]
    out = torch.empty(n, dtype=partial.dtype, device=partial.device)
    block = min(1024, max(16, triton.next_power_of_2(n)))
    _sum_chunks[(triton.cdiv(n, block),)](partial, out, chunks, n, BLOCK=block)
    return out

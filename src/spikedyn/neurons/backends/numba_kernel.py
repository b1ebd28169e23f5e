"""The fused backend's CPU kernels: numba-compiled, cache-blocked, run on torch's thread count.

Each work item is one batch row and one block of ``BLOCK`` neurons; all T steps of a block
run before the next block, so the state stays in L1 while x, S and H stream through memory
once. Kernels release the GIL and the items are split over a thread pool. They compile on
first use for each dtype (about a second) and are cached on disk by numba afterwards.
Scalars are passed in the array's dtype so float32 stays float32 throughout, which keeps the
forward bit-identical to the reference's torch ops.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.dynamics import Dynamics

try:
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

BLOCK = 2048
MIN_ELEMENTS_PER_THREAD = 1 << 20
SUPPORTED_DTYPES = (torch.float32, torch.float64)

AVAILABLE = numba is not None


def supports(x: torch.Tensor, dyn: Dynamics) -> bool:
    """True when these kernels can run this input: numba present, CPU, float32/64, known surrogate."""
    return AVAILABLE and x.device.type == "cpu" and x.dtype in SUPPORTED_DTYPES and dyn.surrogate.KERNEL_ID is not None


if AVAILABLE:
    _jit = numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
    _inline = numba.njit(inline="always", cache=True, error_model="numpy")

    @_inline
    def _item_bounds(item, blocks, n):
        """Work item -> (first neuron, block size, flat offset of its batch row)."""
        n0 = (item % blocks) * BLOCK
        return n0, min(n, n0 + BLOCK) - n0, (item // blocks) * n + n0

    @_inline
    def _charge(v, x, k, leaky, decay_input, rest):
        if not leaky:
            return v + x
        if decay_input:
            return v + k * (x - (v - rest))
        return v - k * (v - rest) + x

    @_inline
    def _reset(h, th, rest, hard, one):
        s = one if h >= th else one - one
        if hard:
            return h * (one - s) + rest * s
        return h - th * s

    @_jit
    def _surrogate_grads(h, th, sid, alpha, c, one, out):
        # One loop per surrogate, so each vectorizes on its own.
        zero = one - one
        half = one / (one + one)
        if sid == 0:
            for i in range(h.shape[0]):
                q = c * (h[i] - th)
                out[i] = alpha * half / (one + q * q)
        elif sid == 1:
            for i in range(h.shape[0]):
                sg = one / (one + math.exp(-alpha * (h[i] - th)))
                out[i] = alpha * sg * (one - sg)
        elif sid == 2:
            for i in range(h.shape[0]):
                out[i] = alpha * max(zero, one - alpha * abs(h[i] - th))
        else:
            for i in range(h.shape[0]):
                out[i] = alpha if abs(h[i] - th) < c else zero

    @_jit
    def _forward_items(x, k, v0, s_out, h_out, keep_h, n, leaky, decay_input, hard, th, rest, one, start, stop):
        steps = x.shape[0]
        blocks = (n + BLOCK - 1) // BLOCK
        v = np.empty(BLOCK, dtype=x.dtype)
        for item in range(start, stop):
            n0, size, off = _item_bounds(item, blocks, n)
            kb = k[n0 : n0 + size]
            for i in range(size):
                v[i] = v0[n0 + i]
            for t in range(steps):
                xt = x[t, off : off + size]
                st = s_out[t, off : off + size]
                ht = h_out[t if keep_h else 0, off : off + size]
                for i in range(size):
                    h = _charge(v[i], xt[i], kb[i], leaky, decay_input, rest)
                    ht[i] = h
                    st[i] = one if h >= th else one - one
                    v[i] = _reset(h, th, rest, hard, one)

    @_jit
    def _backward_items(
        grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, k, v0, grad_x, acc_out, grad_v0,
        n, decay_on, hard_on, detach, th, rest, sid, alpha, c, one, need_k, start, stop,
    ):  # fmt: skip
        # The options enter as selects on loop-invariant flags, not branches, so the main loop is
        # one straight vectorizable body. Selects, not 0/1 factors: 0 * inf is NaN, and a
        # potential of -inf (an input of -inf) must leave the terms an option switches off at 0,
        # as the torch ops do. IF is k = 0, no decay.
        # grad_s is [T, M] (row step 1), one row broadcast over T (row step 0), or, with
        # gs_per_step, [T, 1]: one value per step broadcast over the neurons (spikes.sum()).
        steps = h_seq.shape[0]
        blocks = (n + BLOCK - 1) // BLOCK
        zero = one - one
        gv = np.empty(BLOCK, dtype=h_seq.dtype)
        acc = np.empty(BLOCK, dtype=h_seq.dtype)
        vp = np.empty(BLOCK, dtype=h_seq.dtype)
        sg = np.empty(BLOCK, dtype=h_seq.dtype)
        gx = np.empty(BLOCK, dtype=h_seq.dtype)
        gs_const = np.empty(BLOCK, dtype=h_seq.dtype)
        for item in range(start, stop):
            n0, size, off = _item_bounds(item, blocks, n)
            kb = k[n0 : n0 + size]
            for i in range(size):
                gv[i] = zero
                acc[i] = zero
            for t in range(steps - 1, -1, -1):
                if t > 0:
                    hp = h_seq[t - 1, off : off + size]
                    for i in range(size):
                        vp[i] = _reset(hp[i], th, rest, hard_on, one)
                else:
                    for i in range(size):
                        vp[i] = v0[n0 + i]
                ht = h_seq[t, off : off + size]
                _surrogate_grads(ht, th, sid, alpha, c, one, sg[:size])
                if gs_per_step:
                    for i in range(size):
                        gs_const[i] = grad_s[t, 0]
                    gst = gs_const[:size]
                else:
                    gst = grad_s[t * gs_row_step, off : off + size]
                ght = grad_h[t if grad_h_on else 0, off : off + size]
                gxt = grad_x[t, off : off + size]
                for i in range(size):
                    h = ht[i]
                    s = one if h >= th else zero
                    dv_dh_hard = (one - s) + (zero if detach else (rest - h) * sg[i])
                    dv_dh_soft = one if detach else one - th * sg[i]
                    dv_dh = dv_dh_hard if hard_on else dv_dh_soft
                    g = gst[i] * sg[i] + gv[i] * dv_dh + (ght[i] if grad_h_on else zero)
                    acc[i] += g * ((h - vp[i]) if decay_on else (rest - vp[i]))
                    gv[i] = g * (one - kb[i])
                    gx[i] = g * kb[i] if decay_on else g
                # grad_x may be h_seq itself; storing through a local block keeps the main loop
                # free of that aliasing, which would otherwise stop it from vectorizing.
                for i in range(size):
                    gxt[i] = gx[i]
            if need_k:
                for i in range(size):
                    acc_out[off + i] = acc[i]
            for i in range(size):
                grad_v0[off + i] = gv[i]


    @_jit
    def _sum_rows(flat, n, out):
        for j in range(n):
            out[j] = flat[j]
        for row in range(1, flat.shape[0] // n):
            base = row * n
            for j in range(n):
                out[j] += flat[base + j]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _run_parallel(kernel, args: tuple, items: int, elements: int) -> None:
    """Run ``kernel(*args, start, stop)`` over ``items`` work items on torch's thread count.

    The calling thread takes the first share itself. Small problems stay on one thread:
    handing work to another costs more than it saves there, all the more while torch's
    OpenMP workers still spin after the previous operator.
    """
    global _pool
    workers = max(1, min(torch.get_num_threads(), items, elements // MIN_ELEMENTS_PER_THREAD))
    if workers == 1:
        kernel(*args, 0, items)
        return
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers - 1:
            _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="spikedyn")
        pool = _pool
    bounds = [items * w // workers for w in range(workers + 1)]
    futures = [pool.submit(kernel, *args, bounds[w], bounds[w + 1]) for w in range(1, workers)]
    kernel(*args, bounds[0], bounds[1])
    for future in futures:
        future.result()


def _scalar(dtype: np.dtype, value: float):
    return dtype.type(value)


def _gradient_rows(grad: torch.Tensor) -> tuple[np.ndarray, int, bool]:
    """(array, row step, one value per step) for a [T, M] gradient view, copying only odd layouts."""
    step_stride, element_stride = grad.stride()
    if element_stride == 0:
        return grad[:, 0].contiguous().view(-1, 1).numpy(), 1, True
    if element_stride == 1 and step_stride == 0:
        return grad[:1].numpy(), 0, False
    return grad.contiguous().numpy(), 1, False


def forward(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, n: int, dyn: Dynamics, keep_h: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Spikes and H, both [T, M], from a contiguous x [T, M]; see :mod:`torch_kernel`."""
    spikes = fresh_like(x)
    potentials = fresh_like(x, rows=None if keep_h else 1)
    xa = x.numpy()
    dt = xa.dtype
    args = (
        xa, k.numpy(), v0.numpy(), spikes.numpy(), potentials.numpy(), keep_h, n, dyn.leaky, dyn.decay_input,
        dyn.hard_reset, _scalar(dt, dyn.v_threshold), _scalar(dt, dyn.rest), _scalar(dt, 1.0),
    )  # fmt: skip
    items = (x.shape[1] // n) * ((n + BLOCK - 1) // BLOCK) if n else 0
    _run_parallel(_forward_items, args, items, x.numel())
    return spikes, potentials if keep_h else None


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
    """Closed-form backward; same contract as :func:`torch_kernel.backward`."""
    ha = h.numpy()
    dt = ha.dtype
    m = h.shape[1]
    acc = fresh_like(h, rows=1)
    grad_v0 = fresh_like(h, rows=1)
    alpha = dyn.surrogate.alpha
    # c is pi/2*alpha for ATan and the half-width 1/(2 alpha) for Rectangular.
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha
    need_k = need_k and dyn.leaky
    gs_rows, gs_row_step, gs_per_step = _gradient_rows(grad_s)
    args = (
        gs_rows, gs_row_step, gs_per_step, ha if grad_h is None else grad_h.contiguous().numpy(), grad_h is not None,
        ha, k.numpy(), v0.numpy(), grad_x.numpy(), acc.numpy()[0], grad_v0.numpy()[0],
        n, dyn.decay_input and dyn.leaky, dyn.hard_reset, dyn.detach_reset,
        _scalar(dt, dyn.v_threshold), _scalar(dt, dyn.rest), int(dyn.surrogate.KERNEL_ID),
        _scalar(dt, alpha), _scalar(dt, c), _scalar(dt, 1.0), need_k,
    )  # fmt: skip
    items = (m // n) * ((n + BLOCK - 1) // BLOCK) if n else 0
    _run_parallel(_backward_items, args, items, h.numel())
    return grad_x, _sum_over_batch(acc[0], n) if need_k else None, _sum_over_batch(grad_v0[0], n) if need_v0 else None


def _sum_over_batch(flat: torch.Tensor, n: int) -> torch.Tensor:
    """Sum a [B * N] per-element gradient over the batch to [N], on this thread.

    Kept out of torch's OpenMP pool on purpose: waking it here leaves its workers spinning
    against the next kernel's threads (6 ms a step at T=16, 2**20 neurons on 2 cores).
    """
    out = torch.empty(n, dtype=flat.dtype)
    _sum_rows(flat.numpy(), n, out.numpy())
    return out

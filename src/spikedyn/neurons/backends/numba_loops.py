"""Everything numba compiles for the CPU kernel: the loops, the job workers and their C entry points.

The work is laid out by the input's size, not its rank: M = B * N elements are cut into blocks
of ``block`` consecutive elements (a block may cross from one batch row into the next), and
each element takes its k and V_{-1} from its neuron, ``(flat index) % N``, gathered once per
block. So [16, 262144] (N = 1) and [16, 64, 16384] both run 2048-element blocks, while
per-element gradients of k and V_{-1} are summed over the batch afterwards (:func:`sum_rows`).
All T steps of a block run before the next block, so the state stays in L1 while x, S and H
stream through memory once. Scalars come in the array's dtype so float32 stays float32
throughout, which keeps the forward bit-identical to the reference's torch ops.

A *job* is an int64 array: a header the launchers own (chunk counter, slot counter, number of
work items, chunk size, number of workers), then the kernel's arguments (array addresses, sizes,
flags, the address of a float64 array of scalars). Each worker runs ``run_forward`` or
``run_backward`` on the job's address: it claims a scratch slot, then chunks of work items with
atomic increments until none are left (:mod:`numba_parallel` launches the workers).

All of it lives in this one file on purpose: numba's on-disk cache checks only the source file
of each cached function, so a loop in another file could change under a worker cached here
and the stale worker would run on.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

BLOCK = 2048  # the most elements of one work item: its state rows fill L1/L2, not more
FORWARD_ROWS = 2  # scratch rows of BLOCK elements a forward worker needs
BACKWARD_ROWS = 7  # and a backward worker

# The job's fields (int64; flags as 0/1; the scalars through the address of a float64 array).
NEXT, SLOT, ITEMS, CHUNK, WORKERS = range(5)  # the header, owned by the launchers
SCRATCH, DOUBLE, STEPS, M, N, BLOCK_SIZE, FLOATS = range(5, 12)
F_X, F_K, F_V0, F_S, F_H, F_KEEP_H, F_LEAKY, F_DECAY, F_HARD = range(12, 21)
FORWARD_FIELDS = 21
(B_GS, B_GS_ROWS, B_GS_COLS, B_GS_STEP, B_GS_PER_STEP, B_GH, B_GH_ON, B_H, B_K, B_V0, B_GX, B_ACC, B_GV0,
 B_DECAY, B_HARD, B_DETACH, B_SID, B_NEED_K) = range(12, 30)  # fmt: skip
BACKWARD_FIELDS = 30

if numba is not None:
    jit = numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
    _inline = numba.njit(inline="always", cache=True, error_model="numpy")

    @intrinsic
    def address_pointer(typingctx, address):
        """An int64 address as a void pointer (to view it with numba.carray)."""

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(types.int64), codegen

    @intrinsic
    def pointer_address(typingctx, pointer):
        """A void pointer as an int64 address."""

        def codegen(context, builder, signature, args):
            return builder.ptrtoint(args[0], ir.IntType(64))

        return types.int64(types.voidptr), codegen

    @intrinsic
    def _fetch_add(typingctx, address, value):
        """Atomically add ``value`` to the int64 at ``address``; returns the value before."""

        def codegen(context, builder, signature, args):
            pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
            return builder.atomic_rmw("add", pointer, args[1], "monotonic")

        return types.int64(types.int64, types.int64), codegen

    @_inline
    def job_view(address, length):
        """The job at ``address`` as an int64 array of ``length`` fields."""
        return numba.carray(address_pointer(address), (length,), np.int64)

    @_inline
    def claim_slot(address):
        """This worker's scratch slot, 0 .. workers - 1."""
        return _fetch_add(address + 8 * SLOT, 1)

    @_inline
    def claim_chunk(job, address):
        """The next chunk of work items as (start, stop); start == stop when none is left."""
        items, chunk = job[ITEMS], job[CHUNK]
        start = min(items, _fetch_add(address + 8 * NEXT, 1) * chunk)
        return start, min(items, start + chunk)

    @_inline
    def _item_bounds(item, block, m):
        """Work item -> (first flat element, number of elements)."""
        off = item * block
        return off, min(m, off + block) - off

    @jit
    def gather(values, off, size, n, out):
        """out[i] = values[(off + i) % n]: a neuron's parameter for each element of a block."""
        if n == 1:
            for i in range(size):
                out[i] = values[0]
            return
        j = off % n
        i = 0
        while i < size:
            run = min(size - i, n - j)
            dst, src = out[i : i + run], values[j : j + run]  # slices: range indices vectorize
            for r in range(run):
                dst[r] = src[r]
            i += run
            j = 0

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

    @jit
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

    @jit
    def forward_items(x, k, v0, s_out, h_out, keep_h, n, block, leaky, decay_input, hard, th, rest, one, scratch, start, stop):
        """Spikes and H of work items [start, stop): T steps per block, H kept for every step or the last."""
        steps, m = x.shape
        v = scratch[0]
        kl = scratch[1]
        for item in range(start, stop):
            off, size = _item_bounds(item, block, m)
            gather(k, off, size, n, kl)
            gather(v0, off, size, n, v)
            for t in range(steps):
                xt = x[t, off : off + size]
                st = s_out[t, off : off + size]
                ht = h_out[t if keep_h else 0, off : off + size]
                for i in range(size):
                    h = _charge(v[i], xt[i], kl[i], leaky, decay_input, rest)
                    ht[i] = h
                    st[i] = one if h >= th else one - one
                    v[i] = _reset(h, th, rest, hard, one)

    @jit
    def backward_items(
        grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, k, v0, grad_x, acc_out, grad_v0,
        n, block, decay_on, hard_on, detach, th, rest, sid, alpha, c, one, need_k, scratch, start, stop,
    ):  # fmt: skip
        """dL/dx of work items [start, stop), and per element the k accumulator and dL/dV_{-1}."""
        # The options enter as selects on loop-invariant flags, not branches, so the main loop is
        # one straight vectorizable body. Selects, not 0/1 factors: 0 * inf is NaN, and a
        # potential of -inf (an input of -inf) must leave the terms an option switches off at 0,
        # as the torch ops do. IF is k = 0, no decay.
        # grad_s is [T, M] (row step 1), one row broadcast over T (row step 0), or, with
        # gs_per_step, [T, 1]: one value per step broadcast over the neurons (spikes.sum()).
        steps, m = h_seq.shape
        zero = one - one
        gv, acc, vp, sg, gx, gs_const, kl = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4], scratch[5], scratch[6]
        for item in range(start, stop):
            off, size = _item_bounds(item, block, m)
            gather(k, off, size, n, kl)
            for i in range(size):
                gv[i] = zero
                acc[i] = zero
            for t in range(steps - 1, -1, -1):
                if t > 0:
                    hp = h_seq[t - 1, off : off + size]
                    for i in range(size):
                        vp[i] = _reset(hp[i], th, rest, hard_on, one)
                else:
                    gather(v0, off, size, n, vp)
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
                    gv[i] = g * (one - kl[i])
                    gx[i] = g * kl[i] if decay_on else g
                # grad_x may be h_seq itself; storing through a local block keeps the main loop
                # free of that aliasing, which would otherwise stop it from vectorizing.
                for i in range(size):
                    gxt[i] = gx[i]
            if need_k:
                for i in range(size):
                    acc_out[off + i] = acc[i]
            for i in range(size):
                grad_v0[off + i] = gv[i]

    @jit
    def sum_rows(flat, n, out):
        """out[j] = sum over rows b of flat[b * n + j], accumulated in float64 (a batch may be 2**20 rows)."""
        total = np.zeros(n, dtype=np.float64)
        for row in range(flat.shape[0] // n):
            base = row * n
            for j in range(n):
                total[j] += flat[base + j]
        for j in range(n):
            out[j] = total[j]

    @_inline
    def _view(address, rows, cols, dt):
        return numba.carray(address_pointer(address), (rows, cols), dt)

    @_inline
    def _vector(address, size, dt):
        return numba.carray(address_pointer(address), (size,), dt)

    @jit
    def _forward_worker(job, address, dt):
        """One forward worker: claim a scratch slot, then chunks of work items until none is left."""
        slot = claim_slot(address)
        if slot >= job[WORKERS]:
            return
        steps, m, n, block = job[STEPS], job[M], job[N], job[BLOCK_SIZE]
        x, s = _view(job[F_X], steps, m, dt), _view(job[F_S], steps, m, dt)
        keep_h = job[F_KEEP_H] != 0
        h = _view(job[F_H], steps if keep_h else 1, m, dt)
        k, v0 = _vector(job[F_K], n, dt), _vector(job[F_V0], n, dt)
        floats = _vector(job[FLOATS], 2, np.float64)
        scratch = numba.carray(address_pointer(job[SCRATCH]), (job[WORKERS], FORWARD_ROWS, BLOCK), dt)[slot]
        th, rest, one = dt(floats[0]), dt(floats[1]), dt(1.0)
        leaky, decay, hard = job[F_LEAKY] != 0, job[F_DECAY] != 0, job[F_HARD] != 0
        while True:
            start, stop = claim_chunk(job, address)
            if start >= stop:
                return
            forward_items(x, k, v0, s, h, keep_h, n, block, leaky, decay, hard, th, rest, one, scratch, start, stop)

    @jit
    def run_forward(address):
        """Run a forward job's worker on this thread (GIL released): what every launcher calls."""
        job = job_view(address, FORWARD_FIELDS)
        if job[DOUBLE]:
            _forward_worker(job, address, np.float64)
        else:
            _forward_worker(job, address, np.float32)

    @jit
    def _backward_worker(job, address, dt):
        """One backward worker, as :func:`_forward_worker`."""
        slot = claim_slot(address)
        if slot >= job[WORKERS]:
            return
        steps, m, n, block = job[STEPS], job[M], job[N], job[BLOCK_SIZE]
        gs = _view(job[B_GS], job[B_GS_ROWS], job[B_GS_COLS], dt)
        gh_on = job[B_GH_ON] != 0
        h = _view(job[B_H], steps, m, dt)
        gh = _view(job[B_GH], steps, m, dt) if gh_on else h
        gx = _view(job[B_GX], steps, m, dt)
        k, v0 = _vector(job[B_K], n, dt), _vector(job[B_V0], n, dt)
        acc, gv0 = _vector(job[B_ACC], m, dt), _vector(job[B_GV0], m, dt)
        floats = _vector(job[FLOATS], 4, np.float64)
        scratch = numba.carray(address_pointer(job[SCRATCH]), (job[WORKERS], BACKWARD_ROWS, BLOCK), dt)[slot]
        th, rest, alpha, c, one = dt(floats[0]), dt(floats[1]), dt(floats[2]), dt(floats[3]), dt(1.0)
        while True:
            start, stop = claim_chunk(job, address)
            if start >= stop:
                return
            backward_items(
                gs, job[B_GS_STEP], job[B_GS_PER_STEP] != 0, gh, gh_on, h, k, v0, gx, acc, gv0, n, block,
                job[B_DECAY] != 0, job[B_HARD] != 0, job[B_DETACH] != 0, th, rest, job[B_SID], alpha, c, one,
                job[B_NEED_K] != 0, scratch, start, stop,
            )  # fmt: skip

    @jit
    def run_backward(address):
        """Run a backward job's worker on this thread (GIL released)."""
        job = job_view(address, BACKWARD_FIELDS)
        if job[DOUBLE]:
            _backward_worker(job, address, np.float64)
        else:
            _backward_worker(job, address, np.float32)

    @numba.cfunc(types.void(types.voidptr), cache=True)
    def forward_entry(job):
        """``void(void*)`` C entry of :func:`run_forward`, for an OpenMP parallel region."""
        run_forward(pointer_address(job))

    @numba.cfunc(types.void(types.voidptr), cache=True)
    def backward_entry(job):
        """``void(void*)`` C entry of :func:`run_backward`."""
        run_backward(pointer_address(job))

"""Everything numba compiles for the extended neuron's CPU kernel: the loops, the job workers and their C entry points.

The same plan as :mod:`numba_loops` (read it first): M = B * N elements cut into blocks of
consecutive elements, each element taking its neuron's quantities, ``(flat index) % N``,
gathered once per block; all T steps of a block before the next; workers that claim a scratch
slot and then chunks of work items through the job header of :mod:`numba_parallel`. Scalars
come in the array's dtype and the forward uses the reference's torch ops in their order, so
float32 spikes are bit-identical to it.

Self-contained on purpose: numba's on-disk cache checks only the source file of each cached
function, so nothing here calls a jitted function of another file. The job header's layout is
written here as numbers; :mod:`numba_extended` checks it against :mod:`numba_loops` on import.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
    from numba.core import cgutils, types
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

BLOCK = 1024  # the most elements of one work item: its ~20 state rows stay in L2
FORWARD_ROWS = 8
BACKWARD_ROWS = 22
# Per-neuron quantities: rows of the [6, N] parameter array; the first five also index the [6, M] gradient accumulators.
K, THETA, RHO_S, RHO_A, BETA, V0 = range(6)

# The job's fields (int64; flags as 0/1; scalars through the address of a float64 array).
NEXT, SLOT, ITEMS, CHUNK, WORKERS = range(5)  # the header, owned by the launchers (checked against numba_loops)
SCRATCH, DOUBLE, STEPS, M, N, BLOCK_SIZE, FLOATS, PARAMS, LEAKY, DECAY, HARD, SYN, ADAPT = range(5, 18)
F_X, F_S, F_H, F_I, F_A, F_KEEP = range(18, 24)
FORWARD_FIELDS = 24
(B_GS, B_GS_ROWS, B_GS_COLS, B_GS_STEP, B_GS_PER_STEP, B_GH, B_GH_ON, B_H, B_I, B_A, B_GX, B_ACC, B_NEED,
 B_DETACH, B_COUPLED, B_SID) = range(18, 34)  # fmt: skip
BACKWARD_FIELDS = 34

if numba is not None:
    jit = numba.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
    _inline = numba.njit(inline="always", cache=True, error_model="numpy")

    @intrinsic
    def _address_pointer(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(types.int64), codegen

    @intrinsic
    def _pointer_address(typingctx, pointer):
        def codegen(context, builder, signature, args):
            return builder.ptrtoint(args[0], cgutils.intp_t)

        return types.int64(types.voidptr), codegen

    @intrinsic
    def _fetch_add(typingctx, address, value):
        def codegen(context, builder, signature, args):
            pointer = builder.inttoptr(args[0], cgutils.intp_t.as_pointer())
            return builder.atomic_rmw("add", pointer, args[1], "monotonic")

        return types.int64(types.int64, types.int64), codegen

    @_inline
    def _view(address, rows, cols, dt):
        return numba.carray(_address_pointer(address), (rows, cols), dt)

    @_inline
    def _claim_chunk(job, address):
        items, chunk = job[ITEMS], job[CHUNK]
        start = min(items, _fetch_add(address + 8 * NEXT, 1) * chunk)
        return start, min(items, start + chunk)

    @jit
    def gather(values, off, size, n, out):
        """out[i] = values[(off + i) % n]: a neuron's quantity for each element of a block."""
        j = off % n
        i = 0
        while i < size:
            run = min(size - i, n - j)
            dst, src = out[i : i + run], values[j : j + run]
            for r in range(run):
                dst[r] = src[r]
            i += run
            j = 0

    @jit
    def _fill(out, size, value):
        for i in range(size):
            out[i] = value

    @jit
    def _copy(src, dst, size):
        for i in range(size):
            dst[i] = src[i]

    @_inline
    def _charge(v, x, k, leaky, decay_input, rest):
        if not leaky:
            return v + x
        if decay_input:
            return v + k * (x - (v - rest))
        return v - k * (v - rest) + x

    @jit
    def forward_items(x, params, s_out, h_out, i_out, a_out, keep, n, block, leaky, decay, hard, syn, adapt, rest, one, scratch, start, stop):
        """Spikes of work items [start, stop), and with ``keep`` H, I (``syn``) and a (``adapt``) of every step."""
        steps, m = x.shape
        zero = one - one
        v, cur, ad, kl, th, rs, ra, be = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4], scratch[5], scratch[6], scratch[7]
        for item in range(start, stop):
            off = item * block
            size = min(m, off + block) - off
            for row, out in ((K, kl), (THETA, th), (RHO_S, rs), (RHO_A, ra), (BETA, be), (V0, v)):
                gather(params[row], off, size, n, out)
            _fill(cur, size, zero)
            _fill(ad, size, zero)
            for t in range(steps):
                xt, st, ht = x[t, off : off + size], s_out[t, off : off + size], h_out[t if keep else 0, off : off + size]
                for i in range(size):
                    drive = rs[i] * cur[i] + xt[i] if syn else xt[i]
                    h = _charge(v[i], drive, kl[i], leaky, decay, rest)
                    threshold = th[i] + be[i] * ad[i] if adapt else th[i]
                    s = one if h - threshold >= zero else zero
                    ht[i] = h
                    st[i] = s
                    v[i] = h * (one - s) + rest * s if hard else h - threshold * s
                    cur[i] = drive
                    ad[i] = ra[i] * ad[i] + s
                if keep and syn:
                    _copy(cur, i_out[t, off : off + size], size)
                if keep and adapt:
                    _copy(ad, a_out[t, off : off + size], size)

    @jit
    def _surrogate_grads(z, size, sid, alpha, c, one):
        """z[i] = surrogate'(z[i]) in place; one loop per surrogate, so each vectorizes on its own."""
        zero = one - one
        half = one / (one + one)
        if sid == 0:
            for i in range(size):
                q = c * z[i]
                z[i] = alpha * half / (one + q * q)
        elif sid == 1:
            for i in range(size):
                sig = one / (one + math.exp(-alpha * z[i]))
                z[i] = alpha * sig * (one - sig)
        elif sid == 2:
            for i in range(size):
                z[i] = alpha * max(zero, one - alpha * abs(z[i]))
        else:
            for i in range(size):
                z[i] = alpha if abs(z[i]) < c else zero

    @jit
    def _thresholds(th, be, a_row, adapt, out, size):
        """A = theta + beta a_{t-1} (theta without adaptation), as the forward computed it."""
        for i in range(size):
            out[i] = th[i] + be[i] * a_row[i] if adapt else th[i]

    @jit
    def backward_items(
        grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, params, grad_x, acc_out, need,
        n, block, leaky, decay, hard, detach, syn, adapt, coupled, rest, sid, alpha, c, one, scratch, start, stop,
    ):  # fmt: skip
        """dL/dx of work items [start, stop), and per element the accumulators of the quantities' gradients.

        The options enter as selects on loop-invariant flags (see :mod:`numba_loops`); the main loop
        reads H_t, A_t (carried from the step after), V_{t-1} and a_{t-1}, I_{t-1} of the element.
        """
        steps, m = h_seq.shape
        zero = one - one
        kl, th, rs, ra, be, v0l = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4], scratch[5]
        gv, gi, ga, acc_k, acc_th, acc_rs, acc_ra, acc_be = (scratch[6], scratch[7], scratch[8], scratch[9], scratch[10],
                                                             scratch[11], scratch[12], scratch[13])  # fmt: skip
        a_now, a_before, vp, sg, gx, gs_const, zeros = scratch[14], scratch[15], scratch[16], scratch[17], scratch[18], scratch[19], scratch[20]
        for item in range(start, stop):
            off = item * block
            size = min(m, off + block) - off
            for row, out in ((K, kl), (THETA, th), (RHO_S, rs), (RHO_A, ra), (BETA, be), (V0, v0l)):
                gather(params[row], off, size, n, out)
            for row in (gv, gi, ga, acc_k, acc_th, acc_rs, acc_ra, acc_be, zeros):
                _fill(row, size, zero)
            last_a = a_seq[steps - 2, off : off + size] if adapt and steps > 1 else zeros[:size]
            _thresholds(th, be, last_a, adapt, a_now, size)
            for t in range(steps - 1, -1, -1):
                if t > 0:
                    hp = h_seq[t - 1, off : off + size]
                    a_row = a_seq[t - 2, off : off + size] if adapt and t > 1 else zeros[:size]
                    _thresholds(th, be, a_row, adapt, a_before, size)
                    for i in range(size):
                        sp = one if hp[i] - a_before[i] >= zero else zero
                        vp[i] = hp[i] * (one - sp) + rest * sp if hard else hp[i] - a_before[i] * sp
                else:
                    _copy(v0l, vp, size)
                ht = h_seq[t, off : off + size]
                for i in range(size):
                    sg[i] = ht[i] - a_now[i]
                _surrogate_grads(sg, size, sid, alpha, c, one)
                if gs_per_step:
                    _fill(gs_const, size, grad_s[t, 0])
                    gst = gs_const[:size]
                else:
                    gst = grad_s[t * gs_row_step, off : off + size]
                ght = grad_h[t if grad_h_on else 0, off : off + size]
                ap = a_seq[t - 1, off : off + size] if adapt and t > 0 else zeros[:size]
                ip = i_seq[t - 1, off : off + size] if syn and t > 0 else zeros[:size]
                for i in range(size):
                    h, threshold, d = ht[i], a_now[i], sg[i]
                    s = one if h - threshold >= zero else zero
                    g_s = gst[i] + ga[i] if coupled else gst[i]
                    dv_dh_hard = (one - s) + (zero if detach else (rest - h) * d)
                    dv_dh_soft = one if detach else one - threshold * d
                    dv_da_hard = zero if detach else (h - rest) * d
                    dv_da_soft = zero if detach else threshold * d - s
                    g_h = g_s * d + gv[i] * (dv_dh_hard if hard else dv_dh_soft) + (ght[i] if grad_h_on else zero)
                    g_a = gv[i] * (dv_da_hard if hard else dv_da_soft) - g_s * d
                    acc_th[i] += g_a
                    acc_be[i] += g_a * ap[i]
                    acc_ra[i] += ga[i] * ap[i]
                    ga[i] = ra[i] * ga[i] + be[i] * g_a if coupled else zero
                    acc_k[i] += g_h * ((h - vp[i]) if decay else (rest - vp[i]))
                    gv[i] = g_h * (one - kl[i]) if leaky else g_h
                    g_i = (g_h * kl[i] if decay else g_h) + (gi[i] if syn else zero)
                    acc_rs[i] += g_i * ip[i]
                    gi[i] = rs[i] * g_i
                    gx[i] = g_i
                _copy(gx, grad_x[t, off : off + size], size)  # grad_x may be h_seq itself: kept out of the main loop
                _copy(a_before, a_now, size)
            for row, acc in ((K, acc_k), (THETA, acc_th), (RHO_S, acc_rs), (RHO_A, acc_ra), (BETA, acc_be), (V0, gv)):
                if need & (1 << row):
                    _copy(acc, acc_out[row, off : off + size], size)

    @jit
    def sum_rows(flat, n, out):
        """out[j] = sum over rows b of flat[b * n + j], accumulated in float64 in row order."""
        total = np.zeros(n, dtype=np.float64)
        for row in range(flat.shape[0] // n):
            base = row * n
            for j in range(n):
                total[j] += flat[base + j]
        for j in range(n):
            out[j] = total[j]

    @jit
    def _worker_start(job, address, rows, dt):
        """(slot's scratch [rows, BLOCK], whether this worker has a slot) for this worker."""
        slot = _fetch_add(address + 8 * SLOT, 1)
        scratch = numba.carray(_address_pointer(job[SCRATCH]), (job[WORKERS], rows, BLOCK), dt)
        return scratch[min(slot, job[WORKERS] - 1)], slot < job[WORKERS]

    @jit
    def _forward_worker(job, address, dt):
        scratch, active = _worker_start(job, address, FORWARD_ROWS, dt)
        if not active:
            return
        steps, m, n, block, keep = job[STEPS], job[M], job[N], job[BLOCK_SIZE], job[F_KEEP] != 0
        x, s = _view(job[F_X], steps, m, dt), _view(job[F_S], steps, m, dt)
        h = _view(job[F_H], steps if keep else 1, m, dt)
        cur, ad = _view(job[F_I], steps, m, dt), _view(job[F_A], steps, m, dt)
        params = _view(job[PARAMS], 6, n, dt)
        rest, one = dt(numba.carray(_address_pointer(job[FLOATS]), (1,), np.float64)[0]), dt(1.0)
        flags = job[LEAKY] != 0, job[DECAY] != 0, job[HARD] != 0, job[SYN] != 0, job[ADAPT] != 0
        while True:
            start, stop = _claim_chunk(job, address)
            if start >= stop:
                return
            forward_items(x, params, s, h, cur, ad, keep, n, block, *flags, rest, one, scratch, start, stop)

    @jit
    def run_forward(address):
        job = numba.carray(_address_pointer(address), (FORWARD_FIELDS,), np.int64)
        if job[DOUBLE]:
            _forward_worker(job, address, np.float64)
        else:
            _forward_worker(job, address, np.float32)

    @jit
    def _backward_worker(job, address, dt):
        scratch, active = _worker_start(job, address, BACKWARD_ROWS, dt)
        if not active:
            return
        steps, m, n, block = job[STEPS], job[M], job[N], job[BLOCK_SIZE]
        gs = _view(job[B_GS], job[B_GS_ROWS], job[B_GS_COLS], dt)
        gh_on = job[B_GH_ON] != 0
        h = _view(job[B_H], steps, m, dt)
        gh = _view(job[B_GH], steps, m, dt) if gh_on else h
        cur, ad, gx = _view(job[B_I], steps, m, dt), _view(job[B_A], steps, m, dt), _view(job[B_GX], steps, m, dt)
        params, acc = _view(job[PARAMS], 6, n, dt), _view(job[B_ACC], 6, m, dt)
        floats = numba.carray(_address_pointer(job[FLOATS]), (3,), np.float64)
        rest, alpha, c, one = dt(floats[0]), dt(floats[1]), dt(floats[2]), dt(1.0)
        flags = job[LEAKY] != 0, job[DECAY] != 0, job[HARD] != 0, job[B_DETACH] != 0, job[SYN] != 0, job[ADAPT] != 0, job[B_COUPLED] != 0
        while True:
            start, stop = _claim_chunk(job, address)
            if start >= stop:
                return
            backward_items(gs, job[B_GS_STEP], job[B_GS_PER_STEP] != 0, gh, gh_on, h, cur, ad, params, gx, acc, job[B_NEED],
                           n, block, *flags, rest, job[B_SID], alpha, c, one, scratch, start, stop)  # fmt: skip

    @jit
    def run_backward(address):
        job = numba.carray(_address_pointer(address), (BACKWARD_FIELDS,), np.int64)
        if job[DOUBLE]:
            _backward_worker(job, address, np.float64)
        else:
            _backward_worker(job, address, np.float32)

    @numba.cfunc(types.void(types.voidptr), cache=True)
    def forward_entry(job):
        run_forward(_pointer_address(job))

    @numba.cfunc(types.void(types.voidptr), cache=True)
    def backward_entry(job):
        run_backward(_pointer_address(job))

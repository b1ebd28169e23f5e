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
BACKWARD_ROWS = 19
# A slot's scratch is one flat array of rows of BLOCK elements; each row is named by its offset (a constant).
FR_V, FR_CUR, FR_AD, FR_KL, FR_TH, FR_RS, FR_RA, FR_BE = (row * BLOCK for row in range(FORWARD_ROWS))
(BR_KL, BR_TH, BR_RS, BR_RA, BR_BE, BR_V0L, BR_VP, BR_SG, BR_GX, BR_GSC,
 BR_GV, BR_GI, BR_GA, BR_AK, BR_ATH, BR_ARS, BR_ARA, BR_ABE, BR_ZR) = (row * BLOCK for row in range(BACKWARD_ROWS))  # fmt: skip
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
    def _row(sc, row, size):
        """Scratch row ``row`` (a multiple of BLOCK) of a slot, as its first ``size`` elements."""
        return sc[row : row + size]

    @_inline
    def _forward_block(x, s_out, h_out, i_out, a_out, keep, off, size, leaky, decay, hard, syn, adapt, rest, one, sc):
        """All T steps of one block; ``syn`` and ``adapt`` come in as constants, so each pair is its own loop."""
        steps = x.shape[0]
        zero = one - one
        for t in range(steps):
            xt, st, ht = x[t, off : off + size], s_out[t, off : off + size], h_out[t if keep else 0, off : off + size]
            for i in range(size):
                v, k, threshold = sc[FR_V + i], sc[FR_KL + i], sc[FR_TH + i]
                drive = sc[FR_RS + i] * sc[FR_CUR + i] + xt[i] if syn else xt[i]
                h_decay = v + k * (drive - (v - rest))
                h_leak = v - k * (v - rest) + drive
                h_if = v + drive
                h = (h_decay if decay else h_leak) if leaky else h_if
                if adapt:
                    threshold = threshold + sc[FR_BE + i] * sc[FR_AD + i]
                s = one if h - threshold >= zero else zero
                ht[i] = h
                st[i] = s
                v_hard = h * (one - s) + rest * s
                v_soft = h - threshold * s
                sc[FR_V + i] = v_hard if hard else v_soft
                if syn:
                    sc[FR_CUR + i] = drive
                if adapt:
                    sc[FR_AD + i] = sc[FR_RA + i] * sc[FR_AD + i] + s
            if keep and syn:
                _copy(_row(sc, FR_CUR, size), i_out[t, off : off + size], size)
            if keep and adapt:
                _copy(_row(sc, FR_AD, size), a_out[t, off : off + size], size)

    @jit
    def forward_items(x, params, s_out, h_out, i_out, a_out, keep, n, block, leaky, decay, hard, syn, adapt, rest, one, sc, start, stop):
        """Spikes of work items [start, stop), and with ``keep`` H, I (``syn``) and a (``adapt``) of every step.

        ``sc`` is the slot's scratch, one flat array whose rows sit at constant offsets (multiples
        of BLOCK): one underlying array, so the loops need no runtime aliasing checks between rows.
        """
        m = x.shape[1]
        zero = one - one
        for item in range(start, stop):
            off = item * block
            size = min(m, off + block) - off
            gather(params[K], off, size, n, _row(sc, FR_KL, size))
            gather(params[THETA], off, size, n, _row(sc, FR_TH, size))
            gather(params[V0], off, size, n, _row(sc, FR_V, size))
            if syn:
                gather(params[RHO_S], off, size, n, _row(sc, FR_RS, size))
                _fill(_row(sc, FR_CUR, size), size, zero)
            if adapt:
                gather(params[RHO_A], off, size, n, _row(sc, FR_RA, size))
                gather(params[BETA], off, size, n, _row(sc, FR_BE, size))
                _fill(_row(sc, FR_AD, size), size, zero)
            if syn and adapt:
                _forward_block(x, s_out, h_out, i_out, a_out, keep, off, size, leaky, decay, hard, True, True, rest, one, sc)
            elif syn:
                _forward_block(x, s_out, h_out, i_out, a_out, keep, off, size, leaky, decay, hard, True, False, rest, one, sc)
            elif adapt:
                _forward_block(x, s_out, h_out, i_out, a_out, keep, off, size, leaky, decay, hard, False, True, rest, one, sc)
            else:
                _forward_block(x, s_out, h_out, i_out, a_out, keep, off, size, leaky, decay, hard, False, False, rest, one, sc)

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

    @_inline
    def _backward_block(
        grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
        leaky, decay, hard, detach, syn, adapt, coupled, rest, sid, alpha, c, one, sc,
    ):  # fmt: skip
        """All T steps of one block, backwards; ``syn`` and ``adapt`` come in as constants (one loop per pair).

        The other options enter as selects between values computed unconditionally (see
        :mod:`numba_loops`), and every load is hoisted out of them, so the main loop stays one
        straight, vectorizable body. It reads H_t, a_{t-1} (A_t is recomputed), I_{t-1} and the
        V_{t-1} and surrogate' rows that two short loops computed before it.
        """
        steps = h_seq.shape[0]
        zero = one - one
        zeros = _row(sc, BR_ZR, size)
        for t in range(steps - 1, -1, -1):
            ht = h_seq[t, off : off + size]
            ap = a_seq[t - 1, off : off + size] if adapt and t > 0 else zeros
            ip = i_seq[t - 1, off : off + size] if syn and t > 0 else zeros
            if t > 0:  # V_{t-1} from H_{t-1} and A_{t-1}
                hp = h_seq[t - 1, off : off + size]
                a2 = a_seq[t - 2, off : off + size] if adapt and t > 1 else zeros
                for i in range(size):
                    hpi = hp[i]
                    threshold = sc[BR_TH + i] + sc[BR_BE + i] * a2[i] if adapt else sc[BR_TH + i]
                    sp = one if hpi - threshold >= zero else zero
                    v_hard = hpi * (one - sp) + rest * sp
                    v_soft = hpi - threshold * sp
                    sc[BR_VP + i] = v_hard if hard else v_soft
            else:
                _copy(_row(sc, BR_V0L, size), _row(sc, BR_VP, size), size)
            for i in range(size):
                threshold = sc[BR_TH + i] + sc[BR_BE + i] * ap[i] if adapt else sc[BR_TH + i]
                sc[BR_SG + i] = ht[i] - threshold
            _surrogate_grads(_row(sc, BR_SG, size), size, sid, alpha, c, one)
            if gs_per_step:
                _fill(_row(sc, BR_GSC, size), size, grad_s[t, 0])
                gst = _row(sc, BR_GSC, size)
            else:
                gst = grad_s[t * gs_row_step, off : off + size]
            ght = grad_h[t, off : off + size] if grad_h_on else ht
            for i in range(size):
                h, d, gvi, k, vpi, gsi, ghi = ht[i], sc[BR_SG + i], sc[BR_GV + i], sc[BR_KL + i], sc[BR_VP + i], gst[i], ght[i]
                threshold = sc[BR_TH + i]
                g_s = gsi
                if adapt:
                    api, gai, be = ap[i], sc[BR_GA + i], sc[BR_BE + i]
                    threshold = threshold + be * api
                    g_coupled = gsi + gai
                    g_s = g_coupled if coupled else gsi
                s = one if h - threshold >= zero else zero
                grad_h_rest = (rest - h) * d
                grad_a_rest = (h - rest) * d
                dv_dh_hard = (one - s) + (zero if detach else grad_h_rest)
                dv_dh_soft_live = one - threshold * d
                dv_dh_soft = one if detach else dv_dh_soft_live
                dv_da_soft_live = threshold * d - s
                dv_da_hard = zero if detach else grad_a_rest
                dv_da_soft = zero if detach else dv_da_soft_live
                g_h = g_s * d + gvi * (dv_dh_hard if hard else dv_dh_soft) + (ghi if grad_h_on else zero)
                g_a = gvi * (dv_da_hard if hard else dv_da_soft) - g_s * d
                sc[BR_ATH + i] += g_a
                if adapt:
                    sc[BR_ABE + i] += g_a * api
                    sc[BR_ARA + i] += gai * api
                    ga_next = sc[BR_RA + i] * gai + be * g_a
                    sc[BR_GA + i] = ga_next if coupled else zero
                charge_decay = h - vpi
                charge_leak = rest - vpi
                sc[BR_AK + i] += g_h * (charge_decay if decay else charge_leak)
                gv_leak = g_h * (one - k)
                sc[BR_GV + i] = gv_leak if leaky else g_h
                g_x = g_h * k
                g_i = g_x if decay else g_h
                if syn:
                    g_i = g_i + sc[BR_GI + i]
                    sc[BR_ARS + i] += g_i * ip[i]
                    sc[BR_GI + i] = sc[BR_RS + i] * g_i
                sc[BR_GX + i] = g_i
            _copy(_row(sc, BR_GX, size), grad_x[t, off : off + size], size)  # grad_x may be h_seq itself: kept out of the main loop

    @jit
    def backward_items(
        grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, params, grad_x, acc_out, need,
        n, block, leaky, decay, hard, detach, syn, adapt, coupled, rest, sid, alpha, c, one, sc, start, stop,
    ):  # fmt: skip
        """dL/dx of work items [start, stop), and per element the accumulators of the quantities' gradients.

        ``sc`` is the slot's flat scratch (rows at constant offsets, as in :func:`forward_items`);
        only the rows of the quantities the neuron has are gathered and carried.
        """
        m = h_seq.shape[1]
        zero = one - one
        for item in range(start, stop):
            off = item * block
            size = min(m, off + block) - off
            gather(params[K], off, size, n, _row(sc, BR_KL, size))
            gather(params[THETA], off, size, n, _row(sc, BR_TH, size))
            gather(params[V0], off, size, n, _row(sc, BR_V0L, size))
            if syn:
                gather(params[RHO_S], off, size, n, _row(sc, BR_RS, size))
            if adapt:
                gather(params[RHO_A], off, size, n, _row(sc, BR_RA, size))
                gather(params[BETA], off, size, n, _row(sc, BR_BE, size))
            for row in range(BR_GV, BR_ZR + BLOCK, BLOCK):  # the carried gradients, the accumulators, the zero row
                _fill(_row(sc, row, size), size, zero)
            if syn and adapt:
                _backward_block(grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
                                leaky, decay, hard, detach, True, True, coupled, rest, sid, alpha, c, one, sc)  # fmt: skip
            elif syn:
                _backward_block(grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
                                leaky, decay, hard, detach, True, False, coupled, rest, sid, alpha, c, one, sc)  # fmt: skip
            elif adapt and coupled:  # ALIF: the constant coupling folds the adaptation gradient's select away
                _backward_block(grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
                                leaky, decay, hard, detach, False, True, True, rest, sid, alpha, c, one, sc)  # fmt: skip
            elif adapt:
                _backward_block(grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
                                leaky, decay, hard, detach, False, True, False, rest, sid, alpha, c, one, sc)  # fmt: skip
            else:
                _backward_block(grad_s, gs_row_step, gs_per_step, grad_h, grad_h_on, h_seq, i_seq, a_seq, grad_x, off, size,
                                leaky, decay, hard, detach, False, False, coupled, rest, sid, alpha, c, one, sc)  # fmt: skip
            for row, acc in ((K, BR_AK), (THETA, BR_ATH), (RHO_S, BR_ARS), (RHO_A, BR_ARA), (BETA, BR_ABE), (V0, BR_GV)):
                if need & (1 << row):
                    _copy(_row(sc, acc, size), acc_out[row, off : off + size], size)

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
        """(slot's flat scratch [rows * BLOCK], whether this worker has a slot) for this worker."""
        slot = _fetch_add(address + 8 * SLOT, 1)
        scratch = numba.carray(_address_pointer(job[SCRATCH]), (job[WORKERS], rows * BLOCK), dt)
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

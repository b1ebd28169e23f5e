"""The fused backend's CPU kernels: the loops of :mod:`numba_loops`, run on torch's own threads.

``forward`` and ``backward`` keep the contract of :mod:`torch_kernel`. Each packs its arrays
into a job whose work items are blocks of consecutive elements of the flat [T, M] tensors,
laid out by the input's size, not its rank (:func:`layout`), and launches it with
:mod:`numba_parallel`; the per-element gradients of k and V_{-1} are then summed over the
batch. Kernels compile on first use (a few seconds) and are cached on disk by numba afterwards.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from spikedyn.neurons.backends import numba_loops as nl
from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.backends.numba_parallel import CHUNKS_PER_WORKER, Kernel, run_job, team_size
from spikedyn.neurons.dynamics import Dynamics

BLOCK = nl.BLOCK
MIN_BLOCK = 64  # the smallest work item: below this the per-item overhead shows
MIN_ELEMENTS_PER_WORKER = 1 << 16  # element-steps per worker: 2 workers break even with 1 at 2**16, gain 11 % at 2**17
SUPPORTED_DTYPES = (torch.float32, torch.float64)

AVAILABLE = nl.numba is not None
if AVAILABLE:
    FORWARD = Kernel(nl.run_forward, nl.forward_entry.address)
    BACKWARD = Kernel(nl.run_backward, nl.backward_entry.address)


def supports(x: torch.Tensor, dyn: Dynamics) -> bool:
    """True when these kernels can run this input: numba present, CPU, float32/64, known surrogate."""
    return AVAILABLE and x.device.type == "cpu" and x.dtype in SUPPORTED_DTYPES and dyn.surrogate.KERNEL_ID is not None


def layout(m: int, steps: int) -> tuple[int, int, int]:
    """(block, work items, workers wanted) for M = B * N elements over T steps: by size, not by rank.

    Blocks of up to BLOCK consecutive elements whatever B and N are; smaller blocks (down to
    MIN_BLOCK) when that gives each worker several, so a worker that starts late can leave its
    share to the others; one worker per MIN_ELEMENTS_PER_WORKER element-steps at most.
    """
    wanted = max(1, min(torch.get_num_threads(), steps * m // MIN_ELEMENTS_PER_WORKER))
    block = BLOCK
    if wanted > 1:
        per_item = -(-m // (wanted * CHUNKS_PER_WORKER))
        block = min(BLOCK, max(MIN_BLOCK, -(-per_item // 16) * 16))
    items = -(-m // block)
    return block, items, min(wanted, items)


def _job(fields: int, rows: int, dtype: np.dtype, steps: int, m: int, n: int, floats: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """A job's int64 fields with its sizes, scratch and scalars filled in: (job, scratch, workers); hold scratch while it runs."""
    block, items, wanted = layout(m, steps)
    workers = team_size(wanted)
    job = np.zeros(fields, dtype=np.int64)
    scratch = np.empty((workers, rows, BLOCK), dtype=dtype)
    job[nl.ITEMS], job[nl.SCRATCH], job[nl.DOUBLE], job[nl.FLOATS] = items, scratch.ctypes.data, dtype == np.float64, floats.ctypes.data
    job[nl.STEPS], job[nl.M], job[nl.N], job[nl.BLOCK_SIZE] = steps, m, n, block
    return job, scratch, workers


def forward(
    x: torch.Tensor, k: torch.Tensor, v0: torch.Tensor, n: int, dyn: Dynamics, keep_h: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Spikes and H, both [T, M], from a contiguous x [T, M]; see :mod:`torch_kernel`."""
    spikes = fresh_like(x)
    potentials = fresh_like(x, rows=None if keep_h else 1)
    arrays = (x.numpy(), k.numpy(), v0.numpy(), spikes.numpy(), potentials.numpy())
    floats = np.array([dyn.v_threshold, dyn.rest], dtype=np.float64)
    job, scratch, workers = _job(nl.FORWARD_FIELDS, nl.FORWARD_ROWS, arrays[0].dtype, *x.shape, n, floats)
    job[nl.F_X], job[nl.F_K], job[nl.F_V0], job[nl.F_S], job[nl.F_H] = (a.ctypes.data for a in arrays)
    job[nl.F_KEEP_H], job[nl.F_LEAKY], job[nl.F_DECAY], job[nl.F_HARD] = keep_h, dyn.leaky, dyn.decay_input, dyn.hard_reset
    run_job(FORWARD, job, workers)
    return spikes, potentials if keep_h else None


def _gradient_rows(grad: torch.Tensor) -> tuple[np.ndarray, int, bool]:
    """(array, row step, one value per step) for a [T, M] gradient view, copying only odd layouts."""
    step_stride, element_stride = grad.stride()
    if element_stride == 0:
        return grad[:, 0].contiguous().view(-1, 1).numpy(), 1, True
    if element_stride == 1 and step_stride == 0:
        return grad[:1].numpy(), 0, False
    return grad.contiguous().numpy(), 1, False


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
    need_k = need_k and dyn.leaky
    acc, grad_v0 = fresh_like(h, rows=1), fresh_like(h, rows=1)
    alpha = dyn.surrogate.alpha
    # c is pi/2*alpha for ATan and the half-width 1/(2 alpha) for Rectangular.
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha
    gs, gs_row_step, gs_per_step = _gradient_rows(grad_s)
    ha = h.numpy()
    gh = ha if grad_h is None else grad_h.contiguous().numpy()
    floats = np.array([dyn.v_threshold, dyn.rest, alpha, c], dtype=np.float64)
    job, scratch, workers = _job(nl.BACKWARD_FIELDS, nl.BACKWARD_ROWS, ha.dtype, *h.shape, n, floats)
    job[nl.B_GS], (job[nl.B_GS_ROWS], job[nl.B_GS_COLS]), job[nl.B_GS_STEP], job[nl.B_GS_PER_STEP] = (
        gs.ctypes.data, gs.shape, gs_row_step, gs_per_step
    )  # fmt: skip
    job[nl.B_GH], job[nl.B_GH_ON] = gh.ctypes.data, grad_h is not None
    arrays = (ha, k.numpy(), v0.numpy(), grad_x.numpy(), acc.numpy(), grad_v0.numpy())
    job[nl.B_H], job[nl.B_K], job[nl.B_V0], job[nl.B_GX], job[nl.B_ACC], job[nl.B_GV0] = (a.ctypes.data for a in arrays)
    job[nl.B_DECAY], job[nl.B_HARD], job[nl.B_DETACH] = dyn.decay_input and dyn.leaky, dyn.hard_reset, dyn.detach_reset
    job[nl.B_SID], job[nl.B_NEED_K] = int(dyn.surrogate.KERNEL_ID), need_k
    run_job(BACKWARD, job, workers)
    return grad_x, _sum_over_batch(acc[0], n) if need_k else None, _sum_over_batch(grad_v0[0], n) if need_v0 else None


def _sum_over_batch(flat: torch.Tensor, n: int) -> torch.Tensor:
    """Sum a [B * N] per-element gradient over the batch to [N] in float64, on this thread (O(B * N), not O(T * B * N))."""
    out = torch.empty(n, dtype=flat.dtype)
    nl.sum_rows(flat.numpy(), n, out.numpy())
    return out

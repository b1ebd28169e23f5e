"""The extended neuron's CPU kernels: the loops of :mod:`numba_extended_loops`, run on torch's own threads.

``forward`` and ``backward`` keep the contract of :mod:`torch_extended`. Each packs its arrays
into a job of work items (blocks of consecutive elements of the flat [T, M] tensors) and runs
it with :mod:`numba_parallel`'s launchers, as :mod:`numba_kernel` does for the classic neuron;
the per-element gradient accumulators are then summed over the batch in a fixed order.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from spikedyn.neurons.backends import numba_extended_loops as nl
from spikedyn.neurons.backends import numba_loops, numba_parallel
from spikedyn.neurons.backends.buffers import fresh_like
from spikedyn.neurons.backends.torch_extended import Saved, Vectors
from spikedyn.neurons.dynamics import Dynamics

MIN_BLOCK = 64  # the smallest work item: below this the per-item overhead shows
MIN_ELEMENTS_PER_WORKER = 1 << 16  # element-steps that pay for waking one more worker

_HEADER = ("NEXT", "SLOT", "ITEMS", "CHUNK", "WORKERS")
if nl.numba is not None and any(getattr(numba_loops, name) != getattr(nl, name) for name in _HEADER):
    raise ImportError("numba_loops' job header moved: update the header fields of numba_extended_loops to match")

AVAILABLE = nl.numba is not None
if AVAILABLE:
    FORWARD = numba_parallel.Kernel(nl.run_forward, nl.forward_entry.address)
    BACKWARD = numba_parallel.Kernel(nl.run_backward, nl.backward_entry.address)


def layout(m: int, steps: int) -> tuple[int, int, int]:
    """(block, work items, workers wanted) for M elements over T steps: several items per worker, one worker per 2^16 element-steps at most."""
    wanted = max(1, min(torch.get_num_threads(), steps * m // MIN_ELEMENTS_PER_WORKER))
    block = nl.BLOCK
    if wanted > 1:
        per_item = -(-m // (wanted * numba_parallel.CHUNKS_PER_WORKER))
        block = min(nl.BLOCK, max(MIN_BLOCK, -(-per_item // 16) * 16))
    items = -(-m // block)
    return block, items, min(wanted, items)


def _job(fields: int, rows: int, dtype: np.dtype, steps: int, m: int, n: int, floats: np.ndarray, params: np.ndarray, dyn: Dynamics,
         vec: Vectors) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """A job's int64 fields with its sizes, scratch, scalars and flags filled in: (job, scratch, workers); hold scratch while it runs."""
    block, items, wanted = layout(m, steps)
    workers = numba_parallel.team_size(wanted)
    job = np.zeros(fields, dtype=np.int64)
    scratch = np.empty((workers, rows, nl.BLOCK), dtype=dtype)
    job[nl.ITEMS], job[nl.SCRATCH], job[nl.DOUBLE], job[nl.FLOATS] = items, scratch.ctypes.data, dtype == np.float64, floats.ctypes.data
    job[nl.STEPS], job[nl.M], job[nl.N], job[nl.BLOCK_SIZE], job[nl.PARAMS] = steps, m, n, block, params.ctypes.data
    job[nl.LEAKY], job[nl.DECAY], job[nl.HARD] = dyn.leaky, dyn.leaky and dyn.decay_input, dyn.hard_reset
    job[nl.SYN], job[nl.ADAPT] = vec.synaptic, vec.adaptive
    return job, scratch, workers


def _params(vec: Vectors) -> np.ndarray:
    """The [6, N] array of the per-neuron quantities (zeros where the neuron has none)."""
    rows = [vec.k, vec.threshold, vec.synaptic_decay, vec.adaptation_decay, vec.adaptation_strength, vec.v0]
    zeros = torch.zeros_like(vec.k)
    return torch.stack([zeros if row is None else row for row in rows]).numpy()


def forward(x: torch.Tensor, vec: Vectors, n: int, dyn: Dynamics, keep: bool = True) -> tuple[torch.Tensor, Saved]:
    """Spikes and (with ``keep``) H, I, a, all [T, M], from a contiguous x [T, M]; see :mod:`torch_extended`."""
    spikes = fresh_like(x)
    h = fresh_like(x, rows=None if keep else 1)
    saved = Saved(h, *(fresh_like(x) if keep and on else None for on in (vec.synaptic, vec.adaptive)))
    params = _params(vec)
    floats = np.array([dyn.rest], dtype=np.float64)
    job, scratch, workers = _job(nl.FORWARD_FIELDS, nl.FORWARD_ROWS, x.numpy().dtype, *x.shape, n, floats, params, dyn, vec)
    stand_in = h.numpy()
    job[nl.F_X], job[nl.F_S], job[nl.F_H] = x.numpy().ctypes.data, spikes.numpy().ctypes.data, stand_in.ctypes.data
    job[nl.F_I], job[nl.F_A] = ((stand_in if t is None else t.numpy()).ctypes.data for t in saved[1:])
    job[nl.F_KEEP] = keep
    numba_parallel.run_job(FORWARD, job, workers)
    return spikes, saved if keep else Saved(None, None, None)


def _gradient_rows(grad: torch.Tensor) -> tuple[np.ndarray, int, bool]:
    """(array, row step, one value per step) for a [T, M] gradient view, copying only odd layouts."""
    step_stride, element_stride = grad.stride()
    if element_stride == 0:
        return grad[:, 0].contiguous().view(-1, 1).numpy(), 1, True
    if element_stride == 1 and step_stride == 0:
        return grad[:1].numpy(), 0, False
    return grad.contiguous().numpy(), 1, False


def backward(
    grad_s: torch.Tensor, grad_h: torch.Tensor | None, saved: Saved, vec: Vectors, n: int, dyn: Dynamics,
    needs: tuple[bool, ...], grad_x: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor | None, ...]]:  # fmt: skip
    """Closed-form backward; same contract as :func:`torch_extended.backward`."""
    h = saved.h.numpy()
    steps, m = h.shape
    acc = fresh_like(saved.h, rows=6)
    alpha = dyn.surrogate.alpha
    c = math.pi / 2 * alpha if dyn.surrogate.KERNEL_ID == 0 else 0.5 / alpha  # ATan's pi/2 alpha, Rectangular's half-width
    gs, gs_row_step, gs_per_step = _gradient_rows(grad_s)
    gh = h if grad_h is None else grad_h.contiguous().numpy()
    params = _params(vec)
    floats = np.array([dyn.rest, alpha, c], dtype=np.float64)
    job, scratch, workers = _job(nl.BACKWARD_FIELDS, nl.BACKWARD_ROWS, h.dtype, steps, m, n, floats, params, dyn, vec)
    job[nl.B_GS], (job[nl.B_GS_ROWS], job[nl.B_GS_COLS]), job[nl.B_GS_STEP], job[nl.B_GS_PER_STEP] = (
        gs.ctypes.data, gs.shape, gs_row_step, gs_per_step
    )  # fmt: skip
    job[nl.B_GH], job[nl.B_GH_ON], job[nl.B_H] = gh.ctypes.data, grad_h is not None, h.ctypes.data
    job[nl.B_I], job[nl.B_A] = ((h if t is None else t.numpy()).ctypes.data for t in saved[1:])
    job[nl.B_GX], job[nl.B_ACC] = grad_x.numpy().ctypes.data, acc.numpy().ctypes.data
    job[nl.B_NEED] = sum(1 << row for row, need in enumerate(needs) if need)
    job[nl.B_DETACH], job[nl.B_COUPLED], job[nl.B_SID] = dyn.detach_reset, vec.adaptive and not dyn.detach_adaptation, dyn.surrogate.KERNEL_ID
    numba_parallel.run_job(BACKWARD, job, workers)
    return grad_x, tuple(_sum_over_batch(acc[row], n) if need else None for row, need in enumerate(needs))


def _sum_over_batch(flat: torch.Tensor, n: int) -> torch.Tensor:
    """Sum a [B * N] per-element accumulator over the batch to [N] in float64, in row order."""
    out = torch.empty(n, dtype=flat.dtype)
    nl.sum_rows(flat.numpy(), n, out.numpy())
    return out

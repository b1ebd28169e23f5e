"""Output buffers for the CPU kernels: reused once nothing holds them, else fresh huge pages.

A fresh tensor of tens of MiB is new memory: the kernel faults it in and zeroes it one 4 KiB
page at a time on first write, which here costs several times the arithmetic (29 ms to
allocate and fill 64 MiB). Two remedies, in order:

- Reuse. The kernels' large buffers (spikes, H, which later becomes the input gradient)
  live for one training step and have the same sizes the next step, so :class:`BufferPool`
  keeps their storages and hands one out again once its use count shows that nothing else
  (no tensor, view, saved activation or numpy array) refers to it: its pages are still
  mapped, so nothing faults. It holds at most ``limit`` bytes (1 GiB by default,
  :func:`set_buffer_pool_limit`; 0 turns reuse off); that memory stays with the process
  between steps, which is the price of not faulting it in again.
- Huge pages. A fresh buffer is advised as transparent huge pages before its first write,
  which cuts the faults 512-fold (8 ms instead of 29 ms for 64 MiB). The advice is a hint:
  where the OS or the allocator does not take it, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import sys
import threading
from collections.abc import Sequence

import torch

_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14
_MIN_BYTES = 2 * _HUGE_PAGE
POOLED_MIN_BYTES = 1 << 20
DEFAULT_POOL_LIMIT = 1 << 30


def _load_madvise():
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        madvise = ctypes.CDLL(name).madvise if name else None
    except (OSError, AttributeError):
        return None
    if madvise is not None:
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        madvise.restype = ctypes.c_int
    return madvise


_madvise = _load_madvise()


def advise_huge_pages(t: torch.Tensor) -> None:
    """Ask for huge pages over the 2 MiB-aligned part of a large CPU tensor not yet written."""
    nbytes = t.numel() * t.element_size()
    if _madvise is None or t.device.type != "cpu" or nbytes < _MIN_BYTES:
        return
    address = t.data_ptr()
    start = -(-address // _HUGE_PAGE) * _HUGE_PAGE
    stop = (address + nbytes) // _HUGE_PAGE * _HUGE_PAGE
    if stop > start:
        _madvise(start, stop - start, _MADV_HUGEPAGE)


_storage_use_count = getattr(torch._C, "_storage_Use_Count", None)  # where torch lacks it, nothing is reused


class BufferPool:
    """Large CPU storages kept for reuse; one is handed out again only when nothing else refers to it."""

    def __init__(self, limit: int = DEFAULT_POOL_LIMIT) -> None:
        self.limit = limit
        self._storages: list[torch.UntypedStorage] = []  # least recently handed out first
        self._lock = threading.Lock()
        self.reused = 0

    @property
    def pooled_bytes(self) -> int:
        """Bytes of the storages the pool keeps, in use or not."""
        return sum(s.nbytes() for s in self._storages)

    def _is_free(self, storage: torch.UntypedStorage) -> bool:
        return _storage_use_count is not None and _storage_use_count(storage._cdata) == 1

    def _take_free(self, nbytes: int) -> torch.UntypedStorage | None:
        for i, storage in enumerate(self._storages):
            if storage.nbytes() == nbytes and self._is_free(storage):
                self._storages.append(self._storages.pop(i))
                self.reused += 1
                return storage
        return None

    def _make_room(self, nbytes: int) -> bool:
        while self.pooled_bytes + nbytes > self.limit:
            free = next((s for s in self._storages if self._is_free(s)), None)
            if free is None:
                return False
            self._storages.remove(free)
        return True

    def empty(self, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        """A contiguous CPU tensor, on a pooled storage nothing else uses, or fresh (and pooled if it fits)."""
        nbytes = math.prod(shape) * dtype.itemsize
        usable = _storage_use_count is not None and POOLED_MIN_BYTES <= nbytes <= self.limit
        with self._lock:
            storage = self._take_free(nbytes) if usable else None
            if storage is None:
                fresh = torch.empty(tuple(shape), dtype=dtype)
                advise_huge_pages(fresh)
                if usable and self._make_room(nbytes):
                    self._storages.append(fresh.untyped_storage())
                return fresh
        return torch.empty(0, dtype=dtype).set_(storage, 0, tuple(shape))

    def clear(self) -> None:
        """Forget every pooled storage (those still in use live on with their users)."""
        with self._lock:
            self._storages.clear()


POOL = BufferPool()


def set_buffer_pool_limit(nbytes: int) -> None:
    """Bytes the CPU kernels may keep for reuse between calls (0: always allocate fresh)."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        raise ValueError(f"the buffer pool limit must be a number of bytes >= 0, got {nbytes!r}")
    with POOL._lock:
        POOL.limit = nbytes
        POOL._make_room(0)


def fresh_like(t: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """An uninitialised contiguous tensor like ``t`` (or its first ``rows`` rows); pooled on the CPU."""
    shape = tuple(t.shape) if rows is None else (rows, *t.shape[1:])
    if t.device.type != "cpu":
        return torch.empty(shape, dtype=t.dtype, device=t.device)
    return POOL.empty(shape, t.dtype)

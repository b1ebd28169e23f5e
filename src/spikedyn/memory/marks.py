"""Which storages hold spikes (or other small multiples of a power of two) during one forward pass.

A mark is set by construction, never by reading the data: a spiking neuron's output is 0/1
because it fires H >= V_th (:mod:`spikedyn.memory.rules`). Marks are keyed by the storage
itself (a weak reference to torch's storage object, so a freed storage whose memory is reused
can never inherit a mark) and remember the storage's version counter: a tensor written in
place after it was marked is no longer trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.multiprocessing.reductions import StorageWeakRef

from spikedyn.memory.packing import Levels


def storage_key(t: torch.Tensor) -> StorageWeakRef:
    """A hashable weak reference to ``t``'s storage, equal for every view of it."""
    return StorageWeakRef(t.untyped_storage())


def version_of(t: torch.Tensor) -> int | None:
    """``t``'s version counter (shared by its views), None for inference tensors that have none."""
    try:
        return t._version
    except RuntimeError:
        return None


def owns_storage(t: torch.Tensor) -> bool:
    """True when ``t`` covers its whole storage contiguously: the storage holds ``t``'s values and nothing else."""
    return t.is_contiguous() and t.storage_offset() == 0 and t.untyped_storage().nbytes() == t.numel() * t.element_size()


@dataclass(frozen=True)
class Mark:
    """What a storage holds (``levels``), read as ``numel`` elements of ``dtype``, as of ``version``."""

    levels: Levels
    dtype: torch.dtype
    numel: int
    version: int


class StorageMarks:
    """The marked storages of one forward pass."""

    def __init__(self) -> None:
        self._marks: dict[StorageWeakRef, Mark] = {}

    def mark(self, t: torch.Tensor, levels: Levels) -> bool:
        """Mark ``t``'s storage as holding ``levels``; refused (False) unless ``t`` owns its storage."""
        version = version_of(t)
        if version is None or not t.is_floating_point() or t.numel() == 0 or not owns_storage(t):
            return False
        self._marks[storage_key(t)] = Mark(levels, t.dtype, t.numel(), version)
        return True

    def lookup(self, t: torch.Tensor) -> Mark | None:
        """The mark of ``t``'s storage if ``t`` reads it in the marked dtype and nothing wrote to it since."""
        if not t.is_floating_point():
            return None
        mark = self._marks.get(storage_key(t))
        if mark is None or mark.dtype != t.dtype or mark.version != version_of(t):
            return None
        return mark

    def levels(self, t: torch.Tensor) -> Levels | None:
        """The levels of ``t``'s storage, or None when unmarked."""
        mark = self.lookup(t)
        return None if mark is None else mark.levels

    def clear(self) -> None:
        """Forget every mark."""
        self._marks.clear()

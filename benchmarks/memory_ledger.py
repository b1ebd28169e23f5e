"""Every tensor autograd saves during a forward pass, named by the module that saved it, and the bytes held.

Used by memory.py. A :class:`Ledger` wraps a pack function (identity for a plain run,
spikedyn's compaction session for a compact one) in ``saved_tensors_hooks`` and records, for
each saved tensor: the innermost module running (its qualified name and type), dtype, shape,
whether its values are exactly 0/1, what the handle holds (the tensor itself, a packed view,
narrowed indices, a recomputable H) and its bytes. Bytes are counted once per distinct storage
(or packed storage). Parameters, buffers and the network's input are listed apart from the
activations, as in neuron.py's "saved MB".
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef

from spikedyn.memory.frames import NarrowedIndices
from spikedyn.memory.packing import PackedView
from spikedyn.memory.recompute import PendingPotential, restore_saved

LOSS = "<loss>"


@dataclass
class Saved:
    """One saved tensor: who saved it, what it is, how it is held, and the bytes it adds."""

    module: str
    module_type: str
    kind: str  # "activation", "parameter" or "input"
    dtype: str
    shape: list[int]
    binary: bool
    held_as: str  # "tensor", "bits", "bytes", "int16", "int32", "recomputed"
    original_bytes: int  # its storage's bytes as a plain run keeps them (0 when already counted)
    held_bytes: int  # what this run keeps for it (0 when already counted)


def _is_binary(t: torch.Tensor) -> bool:
    if not t.is_floating_point() or t.numel() == 0:
        return False
    with torch.no_grad():
        return bool(((t == 0) | (t == 1)).all())


class Ledger:
    """The records of one forward pass; ``rows()`` once the pass is over (recomputation is decided at each neuron's end)."""

    def __init__(self, model: nn.Module, x: torch.Tensor, inner: Callable[[torch.Tensor], Any]) -> None:
        self.inner = inner
        self.names = {module: name or "<model>" for name, module in model.named_modules()}
        fixed = list(model.parameters()) + list(model.buffers())
        self.fixed = {StorageWeakRef(p.untyped_storage()) for p in fixed}
        self.input = StorageWeakRef(x.untyped_storage())
        self.stack: list[nn.Module] = []
        self.entries: list[tuple[Saved, object, torch.Tensor]] = []
        self.counted: set[object] = set()

    def pack(self, t: torch.Tensor) -> object:
        """Record ``t`` and return what the inner pack function keeps for it."""
        handle = self.inner(t)
        module = self.stack[-1] if self.stack else None
        key = StorageWeakRef(t.untyped_storage())
        kind = "parameter" if key in self.fixed else "input" if key == self.input else "activation"
        row = Saved(
            module=self.names.get(module, LOSS), module_type=type(module).__name__ if module is not None else LOSS, kind=kind,
            dtype=str(t.dtype).removeprefix("torch."), shape=list(t.shape), binary=_is_binary(t), held_as="tensor",
            original_bytes=0, held_bytes=0,
        )  # fmt: skip
        if key not in self.counted:
            self.counted.add(key)
            row.original_bytes = t.untyped_storage().nbytes()
        self.entries.append((row, handle, t if isinstance(handle, PendingPotential) else None))
        return handle

    def rows(self) -> list[Saved]:
        """Every saved tensor with how it ended up held (call after the forward pass)."""
        held: set[object] = set()
        out = []
        for row, handle, _ in self.entries:
            if isinstance(handle, PackedView):
                row.held_as = "bits" if handle.storage.bits else "bytes"
                key, size = id(handle.storage), handle.storage.nbytes
            elif isinstance(handle, NarrowedIndices):
                row.held_as = str(handle.data.dtype).removeprefix("torch.")
                key, size = id(handle), handle.data.nbytes
            elif isinstance(handle, PendingPotential) and handle.recipe is not None:
                row.held_as, key, size = "recomputed", id(handle), 0
            else:
                tensor = restore_saved(handle) if isinstance(handle, PendingPotential) else handle
                key = StorageWeakRef(tensor.untyped_storage())
                size = tensor.untyped_storage().nbytes()
            if key not in held:
                held.add(key)
                row.held_bytes = size
            out.append(row)
        return out


@contextlib.contextmanager
def ledger(model: nn.Module, x: torch.Tensor, inner: Callable[[torch.Tensor], Any] | None = None) -> Iterator[Ledger]:
    """Record what autograd saves while the block runs ``model`` (and its loss) on ``x``."""
    book = Ledger(model, x, inner or (lambda t: t))
    handles = []

    def enter(module: nn.Module, args: tuple) -> None:
        book.stack.append(module)

    def leave(module: nn.Module, args: tuple, output: object) -> None:
        book.stack.pop()

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave, always_call=True))
    try:
        with torch.autograd.graph.saved_tensors_hooks(book.pack, restore_saved):
            yield book
    finally:
        for handle in handles:
            handle.remove()


def totals(rows: list[Saved]) -> dict[str, int]:
    """Bytes held per kind (activation, parameter, input), plus the activations' bytes before compaction."""
    out: dict[str, int] = defaultdict(int)
    for row in rows:
        out[row.kind] += row.held_bytes
        if row.kind == "activation":
            out["activation_original"] += row.original_bytes
    return dict(out)


def by_module(rows: list[Saved]) -> list[dict[str, Any]]:
    """Activation bytes per (module, dtype, held as), in forward order: the per-module breakdown."""
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        if row.kind != "activation":
            continue
        key = (row.module, row.dtype, row.binary, row.held_as)
        group = groups.setdefault(key, {"module": row.module, "type": row.module_type, "dtype": row.dtype, "binary": row.binary,
                                        "held_as": row.held_as, "tensors": 0, "original_bytes": 0, "held_bytes": 0, "shapes": []})  # fmt: skip
        group["tensors"] += 1
        group["original_bytes"] += row.original_bytes
        group["held_bytes"] += row.held_bytes
        if row.shape not in group["shapes"]:
            group["shapes"].append(row.shape)
    return list(groups.values())


def as_dicts(rows: list[Saved]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts."""
    return [asdict(row) for row in rows]

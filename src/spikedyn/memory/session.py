"""The hooks of one ``compact_activations`` block: layer hooks that set marks and frames, and the pack hook.

Layer hooks run in the forward pass and only record: which storages hold spikes (marks),
which BN output feeds which neuron, and the frame of the layer now running. The pack hook
gives every tensor autograd saves one look: a max-pool's indices are narrowed, a neuron's H
is replaced by a recipe when its BN input can rebuild it, a marked storage is packed (once,
however many views of it are saved), and everything else is kept as it is.
"""

from __future__ import annotations

import torch
from torch import nn

from spikedyn.memory import rules
from spikedyn.memory.frames import BatchNormFrame, MaxPoolFrame, NarrowedIndices, NeuronFrame
from spikedyn.memory.marks import StorageMarks, storage_key, version_of
from spikedyn.memory.packing import BINARY, Levels, PackedStorage, PackedView
from spikedyn.layers import TemporalEffectiveBatchNorm2d
from spikedyn.memory.recompute import BATCH_NORMS, Autocast, BatchNormCall, Geometry, PotentialRecipe
from spikedyn.memory.stats import CompactionStats
from spikedyn.models.sew_resnet import SEWBlock

SPIKE_FORMATS = ("bits", "bytes")
#: A neuron call with fewer elements keeps H: recomputing it would cost more in per-call overhead than the bytes are worth.
MIN_RECOMPUTE_ELEMENTS = 1 << 16


def _tracing() -> bool:
    return torch.compiler.is_compiling()


class CompactSession:
    """Marks, frames and packed storages of one block; ``install`` hooks ``model``, ``close`` forgets all."""

    def __init__(self, spikes: str = "bits", recompute: bool = True) -> None:
        if spikes not in SPIKE_FORMATS:
            raise ValueError(f"spikes must be one of {SPIKE_FORMATS}, got {spikes!r}")
        self.bits, self.recompute = spikes == "bits", bool(recompute)
        self.marks = StorageMarks()
        self.stats = CompactionStats()
        self.frames: list[object] = []
        self.packed: dict[object, PackedStorage] = {}
        self.batch_norm_calls: dict[object, BatchNormCall] = {}
        self.output_levels: dict[nn.Module, Levels] = {}
        self.handles: list = []

    # -- the pack hook ------------------------------------------------------------------------
    def pack(self, t: torch.Tensor) -> object:
        """The handle autograd keeps for ``t``: a narrower or recomputable stand-in, or ``t`` itself."""
        if t.is_leaf and t.requires_grad:
            return t  # a parameter (or an input that needs its gradient): never packed, and the common case
        if self.frames:
            taken = self.frames[-1].take(t, self.pack_marked)
            if taken is not None:
                if isinstance(taken, NarrowedIndices):
                    self.stats.narrowed_indices += 1
                    self.stats.indices_from_bytes += t.numel() * t.element_size()
                    self.stats.indices_to_bytes += taken.data.numel() * taken.data.element_size()
                return taken
        return self.pack_marked(t)

    def pack_marked(self, t: torch.Tensor) -> object:
        """``t`` as a view of its packed storage if the storage is marked, else ``t``."""
        mark = self.marks.lookup(t)
        if mark is None:
            return t
        key = storage_key(t)
        packed = self.packed.get(key)
        if packed is None:
            packed = PackedStorage(t.detach().as_strided((mark.numel,), (1,), 0), mark.levels, self.bits)
            self.packed[key] = packed
            self.stats.packed_storages += 1
            self.stats.packed_from_bytes += mark.numel * t.element_size()
            self.stats.packed_to_bytes += packed.nbytes
        return PackedView(packed, t)

    # -- layer hooks --------------------------------------------------------------------------
    def install(self, model: nn.Module) -> None:
        """Hook every layer of ``model`` whose outputs or saved tensors this session knows."""
        for module in model.modules():
            kind = type(module)
            if rules.is_builtin_neuron(module):
                self._hook(module, self._neuron_start, self._neuron_end, with_kwargs=True)
            elif kind in rules.MAX_POOLS:
                self._hook(module, self._max_pool_start, self._max_pool_end)
            elif kind in rules.AVG_POOLS:
                self._hook(module, None, self._avg_pool_end)
            elif kind is SEWBlock:
                self._hook(module, None, self._sew_end)
            elif kind in BATCH_NORMS and self.recompute:
                self._hook(module, self._batch_norm_start, self._batch_norm_end)

    def _hook(self, module: nn.Module, start, end, with_kwargs: bool = False) -> None:
        if start is not None:
            self.handles.append(module.register_forward_pre_hook(start, with_kwargs=with_kwargs))
        self.handles.append(module.register_forward_hook(end, always_call=True))

    def _mark(self, module: nn.Module, output: object, levels: Levels | None) -> None:
        out = output[0] if isinstance(output, tuple) else output
        if levels is not None and isinstance(out, torch.Tensor) and self.marks.mark(out, levels):
            self.output_levels[module] = levels
        else:
            self.output_levels.pop(module, None)

    def _neuron_start(self, neuron, args, kwargs):
        if _tracing():
            return None
        x = args[0] if args else kwargs.get("x")
        if not isinstance(x, torch.Tensor):
            return None  # the neuron raises its own error; no frame, so _neuron_end finds none to pop
        recipe = None
        if self.recompute and x.numel() >= MIN_RECOMPUTE_ELEMENTS and torch.is_grad_enabled() and rules.runs_fused(neuron, x):
            call = self.batch_norm_calls.pop(storage_key(x), None)
            if call is not None and call.version == version_of(x):
                recipe = PotentialRecipe(neuron, call, Geometry.of(x))
        self.frames.append(NeuronFrame(x, recipe))
        return None

    def _neuron_end(self, neuron, args, output):
        if _tracing():
            return
        if not self.frames or not isinstance(self.frames[-1], NeuronFrame):
            return
        frame = self.frames.pop()
        committed = frame.commit()
        if committed is not None:
            self.stats.recomputed_potentials += 1
            self.stats.recomputed_bytes += committed.geometry.size.numel() * committed.geometry.dtype.itemsize
        x = args[0] if args else None
        binary = isinstance(x, torch.Tensor) and rules.fires_binary(neuron, x)
        self._mark(neuron, output, BINARY if binary else None)

    def _batch_norm_start(self, bn, args):
        if not _tracing():
            self.frames.append(BatchNormFrame(bn, args[0]))

    def _batch_norm_end(self, bn, args, output):
        if _tracing():
            return
        frame = self.frames.pop()
        if frame.saved_input is None or not isinstance(output, torch.Tensor) or not torch.is_grad_enabled():
            return
        x = args[0]
        steps_batch = tuple(x.shape[:2]) if isinstance(bn, TemporalEffectiveBatchNorm2d) else None
        version = version_of(output)
        if version is not None:
            stats = tuple(frame.stats) if len(frame.stats) == 2 else None
            call = BatchNormCall(bn, frame.saved_input, Geometry.of(output), version, Autocast.current(output.device.type), steps_batch, stats)
            call.check_replay(output.detach())
            self.batch_norm_calls[storage_key(output)] = call

    def _max_pool_start(self, pool, args):
        if not _tracing():
            self.frames.append(MaxPoolFrame(rules.index_dtype(pool, args[0])))

    def _max_pool_end(self, pool, args, output):
        if _tracing():
            return
        self.frames.pop()
        self._mark(pool, output, self.marks.levels(args[0]))

    def _avg_pool_end(self, pool, args, output):
        if _tracing():
            return
        levels = self.marks.levels(args[0])
        self._mark(pool, output, None if levels is None else rules.avg_pool_levels(pool, levels))

    def _sew_end(self, block, args, output):
        if _tracing():
            return
        body = self.output_levels.get(block.body[-1])
        shortcut = self.marks.levels(args[0]) if block.downsample is None else self.output_levels.get(block.downsample[-1])
        self._mark(block, output, rules.sew_levels(block, body, shortcut))

    def close(self) -> None:
        """Remove the hooks and forget marks, frames and the packed-storage index (handles stay valid)."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        self.frames.clear()
        self.marks.clear()
        self.packed.clear()
        self.batch_norm_calls.clear()
        self.output_levels.clear()

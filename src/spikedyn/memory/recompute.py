"""Recompute a neuron's charged potential H in the backward pass instead of keeping it.

A neuron fed by batch normalisation keeps H (one float per element) while the BN keeps its
own input (another). H is a deterministic function of that input: re-running the same BN
call (same op, arguments and autocast state; running statistics cloned, so they are not
updated twice) and then the same neuron op gives H bit for bit. So the neuron's saved H is
replaced by a recipe, and the backward costs one BN and one neuron forward more.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from spikedyn.layers import TemporalEffectiveBatchNorm2d
from spikedyn.memory import batch_norm_replay
from spikedyn.neurons.base import BaseNeuron

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, TemporalEffectiveBatchNorm2d)


def restore_saved(saved: object) -> torch.Tensor:
    """The tensor a saved-tensor handle stands for (a plain tensor is its own handle)."""
    return saved if isinstance(saved, torch.Tensor) else saved.restore()


@dataclass(frozen=True)
class Geometry:
    """A tensor's size, strides, storage offset and dtype: what a recomputed tensor must match."""

    size: torch.Size
    stride: tuple[int, ...]
    offset: int
    dtype: torch.dtype

    @classmethod
    def of(cls, t: torch.Tensor) -> "Geometry":
        """The geometry of ``t``."""
        return cls(t.size(), t.stride(), t.storage_offset(), t.dtype)

    def check(self, t: torch.Tensor, what: str) -> torch.Tensor:
        """``t`` if it has this geometry, else a RuntimeError: a recomputation that differs is never used."""
        if Geometry.of(t) != self:
            raise RuntimeError(f"compact_activations: the recomputed {what} has {Geometry.of(t)}, the forward pass had {self}")
        return t


@dataclass(frozen=True)
class Autocast:
    """The autocast state of one device type during the forward pass, to replay in the backward."""

    device_type: str
    enabled: bool
    dtype: torch.dtype

    @classmethod
    def current(cls, device_type: str) -> "Autocast":
        """The state in force now."""
        return cls(device_type, torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type))

    def replay(self):
        """A context with this state."""
        if not self.enabled:
            return torch.autocast(self.device_type, enabled=False) if torch.is_autocast_enabled(self.device_type) else contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=True)


@dataclass
class BatchNormCall:
    """One forward call of a BN layer: its module, its saved input's handle and statistics, what it returned."""

    module: nn.Module
    saved_input: object
    output: Geometry
    version: int
    autocast: Autocast
    steps_batch: tuple[int, int] | None  # TEBN: (T, B) to unflatten with
    stats: tuple[torch.Tensor, torch.Tensor] | None = None  # (save_mean, save_invstd) the BN op saved
    replay: bool = False  # recompute from ``stats`` (batch_norm_replay), checked for this kind of call

    @property
    def training(self) -> bool:
        """Whether the call normalised with batch statistics (as nn.BatchNorm decides)."""
        m = self.module
        return m.training or (m.running_mean is None and m.running_var is None)

    def check_replay(self, output: torch.Tensor) -> None:
        """Turn on the statistics-free recomputation if it reproduces this call's ``output`` (checked once per kind of call)."""
        m = self.module
        x = restore_saved(self.saved_input)
        if self.training and batch_norm_replay.applies(x, m.weight, self.stats):
            key = (type(m), *batch_norm_replay.signature(x, m.weight, m.bias))
            self.replay = batch_norm_replay.verified(key, lambda: self.recompute(replay=True, force_channels=1), output)

    def recompute(self, replay: bool | None = None, force_channels: int = 0) -> torch.Tensor:
        """The BN output again, bit for bit (the running statistics are not touched)."""
        m = self.module
        x = restore_saved(self.saved_input)
        if self.replay if replay is None else replay:
            y = batch_norm_replay.replay(x, m.weight, m.bias, self.stats, m.eps, force_channels)
        else:
            pass_stats = not m.training or m.track_running_stats
            clone = (lambda b: None if b is None else b.clone()) if self.training else (lambda b: b)
            mean, var = (clone(m.running_mean), clone(m.running_var)) if pass_stats else (None, None)
            y = F.batch_norm(x, mean, var, m.weight, m.bias, self.training, 0.0, m.eps)
        if self.steps_batch is not None:
            steps, batch = self.steps_batch
            y = y.unflatten(0, (steps, batch)) * m.time_scale.view(steps, 1, 1, 1, 1)
        return self.output.check(y, f"output of {type(m).__name__}")


@dataclass
class PotentialRecipe:
    """How to recompute H of one neuron call: its BN's output, viewed as the neuron saw it, through the neuron."""

    neuron: BaseNeuron
    batch_norm: BatchNormCall
    neuron_input: Geometry

    def run(self) -> torch.Tensor:
        """H, recomputed."""
        with torch.no_grad(), self.batch_norm.autocast.replay():
            y = self.batch_norm.recompute()
            x = y.as_strided(self.neuron_input.size, self.neuron_input.stride, self.neuron_input.offset)
            _, h = self.neuron.forward(x, return_v=True)
        return h


class PendingPotential:
    """A neuron's saved H: kept as is until the neuron call ends, then, if a recipe is committed, dropped."""

    __slots__ = ("tensor", "recipe", "geometry")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor: torch.Tensor | None = tensor
        self.recipe: PotentialRecipe | None = None
        self.geometry = Geometry.of(tensor)

    def commit(self, recipe: PotentialRecipe) -> None:
        """Drop the tensor; :meth:`restore` recomputes it."""
        self.tensor, self.recipe = None, recipe

    def restore(self) -> torch.Tensor:
        """H: the kept tensor, or recomputed and checked against the forward pass's geometry."""
        if self.recipe is None:
            return self.tensor
        return self.geometry.check(self.recipe.run(), "potential H")

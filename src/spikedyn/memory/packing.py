"""Exact compact copies of storages whose every element is k * scale, k a small integer: bits or bytes.

A :class:`Levels` says what a storage holds: integers k in [0, count] times a power-of-two
``scale`` (spikes: count 1, scale 1). Such a storage packs into bits (count 1) or one byte per
element (count <= 255) and unpacks to the same values bit for bit: k * scale is exact in every
floating dtype for these k and scales. :class:`PackedView` remembers the size, strides and
offset of the tensor that was saved, so views, transposes and broadcasts come back as they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from spikedyn.memory import bit_kernels

MAX_LEVEL = 255
_NUMBA_DTYPES = (torch.float32, torch.float64)


def is_power_of_two(value: float) -> bool:
    """True for 2**e (any integer e): products and quotients by it are exact in floating point."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return False
    mantissa, _ = math.frexp(value)
    return mantissa == 0.5


@dataclass(frozen=True)
class Levels:
    """Every element is k * ``scale`` for an integer k in [0, ``count``]; ``scale`` a power of two."""

    count: int
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_LEVEL:
            raise ValueError(f"Levels.count must be in [1, {MAX_LEVEL}], got {self.count}")
        if not is_power_of_two(self.scale):
            raise ValueError(f"Levels.scale must be a power of two, got {self.scale!r}")


BINARY = Levels(1, 1.0)


def _use_numba(flat: torch.Tensor) -> bool:
    return bit_kernels.AVAILABLE and flat.device.type == "cpu" and flat.dtype in _NUMBA_DTYPES


_SHIFTS: dict[torch.device, torch.Tensor] = {}


def _shifts(device: torch.device) -> torch.Tensor:
    if device not in _SHIFTS:
        _SHIFTS[device] = torch.arange(8, dtype=torch.uint8, device=device)
    return _SHIFTS[device]


class PackedStorage:
    """The elements of one storage, as bits or bytes, with what restores them: dtype, count, scale."""

    __slots__ = ("data", "numel", "dtype", "scale", "bits")

    def __init__(self, flat: torch.Tensor, levels: Levels, bits: bool) -> None:
        if flat.dim() != 1 or not flat.is_contiguous():
            raise ValueError("PackedStorage packs a flat contiguous tensor")
        self.numel, self.dtype, self.scale = flat.numel(), flat.dtype, float(levels.scale)
        self.bits = bits and levels.count == 1
        with torch.no_grad():
            self.data = self._pack(flat.detach())

    @property
    def nbytes(self) -> int:
        """Bytes held: numel / 8 (bits) or numel (bytes)."""
        return self.data.numel()

    def _pack(self, flat: torch.Tensor) -> torch.Tensor:
        size = (self.numel + 7) // 8 if self.bits else self.numel
        out = torch.empty(size, dtype=torch.uint8, device=flat.device)
        if _use_numba(flat):
            if self.bits:
                bit_kernels.pack_bits(flat.detach().numpy(), out.numpy())
            else:
                bit_kernels.pack_bytes(flat.detach().numpy(), out.numpy(), 1.0 / self.scale)
            return out
        if not self.bits:
            return (flat if self.scale == 1.0 else flat * (1.0 / self.scale)).to(torch.uint8)
        ones = (flat != 0).to(torch.uint8)
        ones = torch.nn.functional.pad(ones, (0, size * 8 - self.numel)).view(size, 8)
        return torch.sum(ones << _shifts(flat.device), dim=1, dtype=torch.uint8)

    def restore(self) -> torch.Tensor:
        """The original elements, as a new flat tensor of the original dtype."""
        out = torch.empty(self.numel, dtype=self.dtype, device=self.data.device)
        if _use_numba(out):
            kernel = bit_kernels.unpack_bits if self.bits else bit_kernels.unpack_bytes
            kernel(self.data.numpy(), out.numpy(), self.scale)
            return out
        values = self.data
        if self.bits:
            values = ((values.unsqueeze(1) >> _shifts(values.device)) & 1).view(-1)[: self.numel]
        out.copy_(values)
        return out if self.scale == 1.0 else out.mul_(self.scale)


class PackedView:
    """A saved tensor whose storage was packed: restores a tensor of the same size, strides and offset."""

    __slots__ = ("storage", "size", "stride", "offset")

    def __init__(self, storage: PackedStorage, like: torch.Tensor) -> None:
        self.storage = storage
        self.size, self.stride, self.offset = like.size(), like.stride(), like.storage_offset()

    def restore(self) -> torch.Tensor:
        """The saved tensor, bit for bit, on a fresh storage."""
        return self.storage.restore().as_strided(self.size, self.stride, self.offset)

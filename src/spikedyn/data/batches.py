"""Batches for a training loop of your own: spikedyn's networks take time first, [T, B, ...].

A spikedyn dataset yields (frames [T, C, H, W], label), so a DataLoader batches them as
[B, T, C, H, W]; the networks and neurons take [T, B, ...]. Pass
``collate_fn=time_major_collate`` to the DataLoader, or call ``time_major(frames)`` on a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import default_collate


def time_major(frames: torch.Tensor) -> torch.Tensor:
    """A batch [B, T, ...] as [T, B, ...] (a view, no copy), as every spikedyn network takes it.

    Example::

        >>> frames, labels = next(iter(DataLoader(dataset, batch_size=32)))  # [32, T, C, H, W]
        >>> outputs = network(spikedyn.time_major(frames))                  # [T, 32, classes]
    """
    if not isinstance(frames, torch.Tensor) or frames.dim() < 2:
        got = f"shape {tuple(frames.shape)}" if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"time_major expects a batch [B, T, ...] (at least 2 dims), got {got}")
    return frames.transpose(0, 1)


def time_major_collate(samples: Sequence[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """DataLoader ``collate_fn``: samples (frames [T, ...], label) -> (frames [T, B, ...], labels [B]).

    Example::

        >>> loader = DataLoader(build_dataset("digits", "train"), batch_size=32, collate_fn=spikedyn.time_major_collate)
        >>> frames, labels = next(iter(loader))  # frames [T, 32, 1, 28, 28]
    """
    frames, labels = default_collate(samples)
    return time_major(frames), labels

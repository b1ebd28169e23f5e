"""Run a stateless per-sample layer over a sequence [T, B, ...] by folding T into the batch."""

from __future__ import annotations

import torch
from torch import nn


def check_sequence(x: torch.Tensor, layer: str, min_dims: int = 3) -> None:
    """Raise a ValueError unless ``x`` is a tensor [T, B, ...] with at least ``min_dims`` dims."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{layer} expects a tensor [T, B, ...], got {type(x).__name__}")
    if x.dim() < min_dims:
        raise ValueError(f"{layer} expects a sequence [T, B, ...] with at least {min_dims} dims, got shape {tuple(x.shape)}")


class TimeDistributed(nn.Module):
    """Apply ``layer`` to every step at once: [T, B, ...] -> [T*B, ...] -> layer -> [T, B, ...].

    For layers that treat samples independently (Conv2d, Linear, pooling, Flatten) and for
    BatchNorm, whose statistics then span all T*B samples. Folding is a view, not a copy.
    """

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        if not layers:
            raise ValueError("TimeDistributed needs at least one layer")
        self.layer = layers[0] if len(layers) == 1 else nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x, type(self).__name__)
        steps, batch = x.shape[:2]
        y = self.layer(x.flatten(0, 1))
        return y.unflatten(0, (steps, batch))

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
        if isinstance(self.layer, nn.Flatten):
            return _flatten_steps(x, self.layer)
        steps, batch = x.shape[:2]
        y = self.layer(x.flatten(0, 1))
        return y.unflatten(0, (steps, batch))


def _flatten_steps(x: torch.Tensor, flatten: nn.Flatten) -> torch.Tensor:
    """``flatten`` of every step, on the sequence itself: its dims shifted past T and B.

    The same values as folding, flattening and unfolding, without splitting T*B back apart
    after a reshape: torch.export cannot prove that split valid for a symbolic batch size (it
    asks for B * min(F, F * B) == F * B), so a whole network would not export with a dynamic batch.
    """
    start, end = flatten.start_dim, flatten.end_dim
    if start < 0 or start == 0:
        raise ValueError(f"TimeDistributed(Flatten) flattens each sample's dims; start_dim must be >= 1, got {start}")
    return x.flatten(start + 1, end + 1 if end >= 0 else end)

"""The voting layer: each class is a population of M output neurons whose mean is its score."""

from __future__ import annotations

import torch
from torch import nn


class VotingLayer(nn.Module):
    """Average pooling with kernel = stride = M over the last dim: [..., M*C] -> [..., C].

    The PLIF paper's APk10s10 (M = 10): class c scores the mean of neurons c*M .. c*M+M-1.
    """

    def __init__(self, group_size: int = 10) -> None:
        super().__init__()
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"voting group_size must be a positive int, got {group_size!r}")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 1 or x.shape[-1] % self.group_size != 0:
            raise ValueError(
                f"VotingLayer(group_size={self.group_size}) needs a last dim that is a multiple of "
                f"{self.group_size} (M * classes), got shape {tuple(x.shape)}"
            )
        return x.unflatten(-1, (-1, self.group_size)).mean(-1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"

"""Dropout for sequences: one mask per sample, kept for every time step."""

from __future__ import annotations

import torch
from torch import nn

from spikedyn.layers.temporal import check_sequence


class TemporalDropout(nn.Module):
    """Zero a feature of a sample at every step or at none, scaling the rest by 1/(1-p).

    The PLIF code's dropout (SpikingJelly's, one mask until the network is reset).
    ``shared_over_time=False`` draws a new mask at every step, as ``nn.Dropout`` on the
    folded [T*B, ...] does in the IMP code's VGG-11; a feature dropped at one step then
    still passes at others.
    """

    def __init__(self, p: float = 0.5, shared_over_time: bool = True) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be a number in [0, 1), got {p!r}")
        self.p = float(p)
        self.shared_over_time = bool(shared_over_time)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x, type(self).__name__)
        if not self.training or self.p == 0.0:
            return x
        mask_shape = (1, *x.shape[1:]) if self.shared_over_time else x.shape
        keep = torch.empty(mask_shape, device=x.device, dtype=x.dtype).bernoulli_(1.0 - self.p)
        return x * keep.div_(1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}, shared_over_time={self.shared_over_time}"

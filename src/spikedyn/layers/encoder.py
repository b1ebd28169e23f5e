"""Run the first layers once on a static image and feed the result to every time step."""

from __future__ import annotations

import torch
from torch import nn


class StaticImageEncoder(nn.Module):
    """``layers`` (the first {Conv, BN}) on the image once, the result repeated for T steps.

    The PLIF repo's trick for static datasets: the outputs equal those of running the
    layers on the image repeated T times, at 1/T of the cost. BN sees the same batch
    mean and variance either way; only its running variance differs, by the unbiased
    factor n/(n-1) with n = B*H*W instead of T*B*H*W. Input: images [B, C, H, W] (then
    ``time_steps`` is needed) or a sequence [T, B, C, H, W] whose steps are all equal.
    Output: [T, B, ...], a broadcast view over T (no copy).
    """

    def __init__(self, layers: nn.Module, time_steps: int | None = None) -> None:
        super().__init__()
        if time_steps is not None and (isinstance(time_steps, bool) or not isinstance(time_steps, int) or time_steps < 1):
            raise ValueError(f"time_steps must be a positive int or None, got {time_steps!r}")
        self.layers = layers
        self.time_steps = time_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            if self.time_steps is None:
                raise ValueError("StaticImageEncoder got images [B, C, H, W] but no time_steps: build it with time_steps=T or pass [T, B, C, H, W]")
            steps, image = self.time_steps, x
        elif x.dim() == 5:
            steps, image = x.shape[0], x[0]
            if steps > 1 and not torch.equal(x, image.unsqueeze(0).expand_as(x)):
                raise ValueError(
                    "StaticImageEncoder runs its layers once per image, so every time step of its input must hold "
                    "the same image; these frames differ over time (event data?): build the model without the static encoder"
                )
        else:
            raise ValueError(f"StaticImageEncoder expects images [B, C, H, W] or a sequence [T, B, C, H, W], got shape {tuple(x.shape)}")
        y = self.layers(image)
        return y.unsqueeze(0).expand(steps, *y.shape)

    def extra_repr(self) -> str:
        return f"time_steps={self.time_steps}"

"""Temporal effective batch normalisation (TEBN, Duan et al. 2022), used by the IMP paper's VGG-11."""

from __future__ import annotations

import torch
from torch import nn

from spikedyn.layers.temporal import check_sequence


class TemporalEffectiveBatchNorm2d(nn.BatchNorm2d):
    """BN with statistics over all T*B samples, then a learnable scale p_t for each step t.

    y_t = p_t * BN(x_t), p_t initialised to 1. The number of steps T is fixed at
    construction because there is one p_t per step. A subclass of BatchNorm2d, so
    parameter grouping and BN folding treat it as a normalisation layer.
    """

    def __init__(self, num_features: int, time_steps: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        if isinstance(time_steps, bool) or not isinstance(time_steps, int) or time_steps < 1:
            raise ValueError(f"TEBN time_steps must be a positive int, got {time_steps!r}")
        self.time_steps = time_steps
        self.time_scale = nn.Parameter(torch.ones(time_steps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x, type(self).__name__, min_dims=5)
        steps, batch = x.shape[:2]
        if steps != self.time_steps:
            raise ValueError(f"TemporalEffectiveBatchNorm2d was built for T={self.time_steps} steps, got T={steps} (input {tuple(x.shape)})")
        y = super().forward(x.flatten(0, 1)).unflatten(0, (steps, batch))
        return y * self.time_scale.view(steps, 1, 1, 1, 1)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", time_steps={self.time_steps}"

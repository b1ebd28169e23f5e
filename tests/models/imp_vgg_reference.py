"""The IMP authors' 48x48 VGG-11, restated from AmazingLab/amazing-cls
``amzcls/models/backbone/vgg/vgg_legacy.py`` (``StateVGG11R48x48Legacy``): the oracle for
tests/models/test_vgg_released_code.py. Only the shape of the computation is kept; the
learnable initial potential exists from construction instead of on the first forward."""

from __future__ import annotations

import torch
from torch import nn


class TriangleSpike(torch.autograd.Function):
    """vgg_legacy.py's ZIF with alpha = 1: Heaviside(x > 0), gradient max(0, 1 - |x|)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * (1 - x.abs()).clamp(min=0)


class StateLIF(nn.Module):
    """vgg_legacy.py's StateLIFSpike: v = 0.25 v + x, fire above 1, hard reset not detached."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.mem = nn.Parameter(torch.empty(1, *shape).uniform_(-0.2, 0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mem, spikes = self.mem, []
        for x_t in x:
            mem = 0.25 * mem + x_t
            spike = TriangleSpike.apply(mem - 1.0)
            mem = mem * (1 - spike)
            spikes.append(spike)
        return torch.stack(spikes)


class PerStep(nn.Module):
    """vgg_legacy.py's SeqToANNContainer: [T, B, ...] -> [T*B, ...] -> layers -> [T, B, ...]."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.layers(x.flatten(0, 1))
        return y.view(*x.shape[:2], *y.shape[1:])


class TEBNLayer(nn.Module):
    """vgg_legacy.py's TEBNLayer: conv3x3 with bias, BN over T*B, times te[t] (init 1)."""

    def __init__(self, in_channels: int, out_channels: int, time_steps: int) -> None:
        super().__init__()
        self.conv = PerStep(nn.Conv2d(in_channels, out_channels, 3, 1, 1))
        self.te = nn.Parameter(torch.ones(time_steps, 1, 1, 1, 1))
        self.bn = PerStep(nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x)) * self.te


def released_vgg11_48(time_steps: int, num_classes: int = 10) -> nn.Module:
    """StateVGG11R48x48Legacy's layers in order (features, then Dropout(0.25) and Linear per step)."""
    layers: list[nn.Module] = []
    channels, size = 2, 48
    for width in (64, 128, "AP", 256, 256, "AP", 512, 512, "AP", 512, 512, "AP"):
        if width == "AP":
            layers.append(PerStep(nn.AvgPool2d(2)))
            size //= 2
            continue
        layers += [TEBNLayer(channels, width, time_steps), StateLIF((width, size, size))]
        channels = width
    return nn.Sequential(
        *layers,
        nn.Flatten(2),
        PerStep(nn.Dropout(0.25), nn.Linear(512 * 3 * 3, num_classes)),
    )

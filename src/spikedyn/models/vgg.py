"""The IMP paper's VGG-11 for two-polarity event frames (CIFAR10-DVS, N-Caltech101)."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from spikedyn.layers import (
    SpikeAvgPool2d,
    TemporalDropout,
    TemporalEffectiveBatchNorm2d,
    TimeDistributed,
)
from spikedyn.models.network import NeuronFactory, SpikingNetwork
from spikedyn.models.neurons import imp_paper_neuron
from spikedyn.models.registry import register_variant
from spikedyn.models.weight_init import initialise
from spikedyn.neurons.parameters import check_choice

#: Output channels of each conv; "AP" is a k2s2 average pooling of the spikes.
VGG11_PLAN = (64, 128, "AP", 256, 256, "AP", 512, 512, "AP", 512, 512, "AP")
NORMS = ("tebn", "bn")


class VGG11(SpikingNetwork):
    """conv3x3 (with bias) - TEBN - neuron for each width of :data:`VGG11_PLAN`, AP where it
    says so, then dropout and one linear layer giving class scores per step [T, B, num_classes].

    The defaults follow the IMP authors' released model, ``VGG11R48x48Legacy`` and
    ``StateVGG11R48x48Legacy`` in AmazingLab/amazing-cls ``amzcls/models/backbone/vgg/vgg_legacy.py``
    (the class IMP-SNN's 48x48 configs build): TEBN with one scale per step starting at 1,
    average pooling of spikes, a dropout mask drawn per step (``nn.Dropout`` on [T*B, ...];
    ``dropout_shared_over_time=True`` keeps one mask for all steps instead) and Kaiming-normal
    (fan_out) conv weights with PyTorch's default conv biases, BN and Linear (``init="default"``
    leaves the convs at PyTorch's default too). TEBN has a scale per step, so ``time_steps`` is
    fixed at construction; ``norm="bn"`` uses plain BN over T*B (then any T works).
    """

    def __init__(
        self,
        name: str,
        *,
        neuron: NeuronFactory,
        in_channels: int,
        input_size: int,
        num_classes: int,
        time_steps: int,
        norm: str = "tebn",
        dropout: float = 0.25,
        dropout_shared_over_time: bool = False,
        init: str = "kaiming_fan_out",
    ) -> None:
        super().__init__(name, (in_channels, input_size, input_size), neuron)
        check_choice("norm", norm, NORMS)
        layers: list[nn.Module] = []
        channels, size = in_channels, input_size
        for step in VGG11_PLAN:
            if step == "AP":
                layers.append(SpikeAvgPool2d(2, 2))
                size //= 2
                continue
            conv = nn.Conv2d(channels, step, 3, 1, 1)
            if norm == "tebn":
                layers += [TimeDistributed(conv), TemporalEffectiveBatchNorm2d(step, time_steps)]
            else:
                layers.append(TimeDistributed(conv, nn.BatchNorm2d(step)))
            layers.append(self.spiking_layer((step, size, size)))
            channels = step
        if size < 1:
            raise ValueError(f"{name}: input size {input_size} is too small for four poolings by 2 (at least 16)")
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            TimeDistributed(nn.Flatten()),
            TemporalDropout(dropout, shared_over_time=dropout_shared_over_time),
            TimeDistributed(nn.Linear(channels * size * size, num_classes)),
        )
        initialise(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores [T, B, num_classes] from frames [T, B, C, H, W]."""
        self.check_input(x)
        return self.classifier(self.features(x))


COMMON = dict(
    neuron=imp_paper_neuron, in_channels=2, num_classes=10, time_steps=10, norm="tebn",
    dropout=0.25, dropout_shared_over_time=False, init="kaiming_fan_out",
)  # fmt: skip

register_variant(
    "vgg11_imp",
    partial(VGG11, "vgg11_imp"),
    "VGG-11 on 48x48 frames (CIFAR10-DVS; num_classes=101 for N-Caltech101), T=10 by default.",
    **COMMON, input_size=48,
)
register_variant(
    "vgg11_imp_128",
    partial(VGG11, "vgg11_imp_128"),
    """vgg11_imp's layout on full-resolution 128x128 frames (linear layer on 512x8x8).

    Not the IMP code's 128x128 model: IMP-SNN's 128x128 configs build amazing-cls's ``VGG11``
    (``amzcls/models/backbone/vgg/vgg.py``: conv widths 64, AP, 128, AP, 256x2, AP, 512x4, plain
    BN, global average pooling, no dropout).
    """,
    **COMMON, input_size=128,
)

"""Spike-element-wise ResNets (Fang et al. 2021), the IMP paper's ImageNet models."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from spikedyn.layers import SpikeMaxPool2d, TimeDistributed
from spikedyn.models.network import NeuronFactory, SpikingNetwork
from spikedyn.models.neurons import imp_imagenet_neuron
from spikedyn.models.registry import register_variant
from spikedyn.models.shapes import conv_output_size
from spikedyn.models.weight_init import kaiming_fan_out_convs
from spikedyn.neurons.parameters import check_choice

#: How a block's output spikes A meet its input spikes S (SEW paper, Table 1).
CONNECTIONS = {
    "add": lambda a, s: a + s,
    "and": lambda a, s: a * s,
    "iand": lambda a, s: (1.0 - a) * s,
}

SpikingLayer = Callable[[tuple[int, ...]], nn.Module]


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> TimeDistributed:
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False)
    return TimeDistributed(conv, nn.BatchNorm2d(out_channels))


class SEWBlock(nn.Module):
    """A residual block whose every conv-BN feeds a neuron; the shortcut (downsampled by
    conv1x1-BN-neuron where the shape changes) joins the output spikes by ``connect``."""

    def __init__(self, body: list[tuple[TimeDistributed, nn.Module]], downsample: nn.Module | None, connect: str) -> None:
        super().__init__()
        self.body = nn.Sequential(*(layer for pair in body for layer in pair))
        self.downsample = downsample
        self.connect = connect

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return CONNECTIONS[self.connect](self.body(x), identity)


def _block(kind: str, in_channels: int, planes: int, stride: int, size: int, spiking: SpikingLayer, connect: str) -> tuple[SEWBlock, int, int]:
    """One basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1 x4) block: (block, out channels, out size)."""
    out_size = conv_output_size(size, 3, stride, 1)
    if kind == "basic":
        plan = [(in_channels, planes, 3, stride, out_size), (planes, planes, 3, 1, out_size)]
        out_channels = planes
    else:
        out_channels = planes * 4
        plan = [(in_channels, planes, 1, 1, size), (planes, planes, 3, stride, out_size), (planes, out_channels, 1, 1, out_size)]
    body = [(_conv_bn(cin, cout, k, s), spiking((cout, hw, hw))) for cin, cout, k, s, hw in plan]
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(_conv_bn(in_channels, out_channels, 1, stride), spiking((out_channels, out_size, out_size)))
    return SEWBlock(body, downsample, connect), out_channels, out_size


class SEWResNet(SpikingNetwork):
    """Stem conv7x7/2-BN-neuron-maxpool3/2, four stages of SEW blocks, global average pool
    and a linear layer: class scores per step [T, B, num_classes]."""

    def __init__(
        self,
        name: str,
        *,
        block: str,
        layers: tuple[int, int, int, int],
        neuron: NeuronFactory,
        in_channels: int,
        input_size: int,
        num_classes: int,
        connect: str = "add",
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__(name, (in_channels, input_size, input_size), neuron)
        check_choice("connect", connect, tuple(CONNECTIONS))
        size = conv_output_size(input_size, 7, 2, 3)
        stem = [_conv_bn(in_channels, 64, 7, 2), self.spiking_layer((64, size, size)), SpikeMaxPool2d(3, 2, 1)]
        size = conv_output_size(size, 3, 2, 1)
        stages: list[nn.Module] = []
        channels = 64
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                sew, channels, size = _block(block, channels, planes, stride, size, self.spiking_layer, connect)
                stages.append(sew)
        self.features = nn.Sequential(*stem, *stages)
        self.classifier = TimeDistributed(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        kaiming_fan_out_convs(self)
        if zero_init_residual:
            for block in self.modules():
                if isinstance(block, SEWBlock):
                    nn.init.zeros_(block.body[-2].layer[1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores [T, B, num_classes] from [T, B, C, H, W] (a static image repeated, or frames)."""
        self.check_input(x)
        return self.classifier(self.features(x))


COMMON = dict(neuron=imp_imagenet_neuron, in_channels=3, input_size=224, num_classes=1000, connect="add", zero_init_residual=False)

for _name, _block_kind, _layers in (
    ("sew_resnet18", "basic", (2, 2, 2, 2)),
    ("sew_resnet34", "basic", (3, 4, 6, 3)),
    ("sew_resnet50", "bottleneck", (3, 4, 6, 3)),
):
    _doc = f"SEW ResNet-{_name[10:]}: {_block_kind} blocks {list(_layers)}, 224x224 input and 1000 classes by default."
    register_variant(_name, partial(SEWResNet, _name, block=_block_kind, layers=_layers), _doc, **COMMON)

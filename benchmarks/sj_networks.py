"""spikedyn's plifnet_* and sew_resnet18 written with SpikingJelly 2.0's layers and neurons, for gpu_models.py.

Same layers in the same order as spikedyn's builders (src/spikedyn/models/plifnet.py and
sew_resnet.py), multi-step mode. :func:`build_sj_network` checks this at build time: the
parameter lists must match shape for shape, and it copies spikedyn's initial weights over, so
both networks start from the same function. Neurons: the PLIF paper's ParametricLIFNode
(tau_0 = 2, ATan, hard reset to 0, detached reset) for the PLIF nets, and for the SEW-ResNet the
IMP paper's ImageNet IFNode (ATan, hard reset to 0, reset not detached). Which SJ implementation runs
them is chosen by environment variables before SJ is imported (benchmarks/gpu_sj.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

NeuronMaker = Callable[[], nn.Module]


def plif_paper_neuron() -> nn.Module:
    """SJ's ParametricLIFNode as spikedyn's plif_paper_neuron."""
    from spikingjelly.activation_based import neuron, surrogate

    return neuron.ParametricLIFNode(init_tau=2.0, detach_reset=True, v_reset=0.0, surrogate_function=surrogate.ATan(), step_mode="m")


def imp_imagenet_neuron() -> nn.Module:
    """SJ's IFNode as spikedyn's imp_imagenet_neuron (the IMP paper's ImageNet scripts build exactly this)."""
    from spikingjelly.activation_based import neuron, surrogate

    return neuron.IFNode(
        v_reset=0.0, detach_reset=False, surrogate_function=surrogate.ATan(), step_mode="m",
    )  # fmt: skip


def sj_plifnet(stages: Sequence[Sequence[int]], fc_features: int, in_channels: int, input_size: int,
               num_classes: int = 10, voting: int = 10, dropout: float = 0.5) -> nn.Module:  # fmt: skip
    """{conv3x3-BN-PLIF}* - maxpool2 per stage, then dropout-FC-PLIF-dropout-FC-PLIF-voting."""
    from spikingjelly.activation_based import functional, layer

    layers: list[nn.Module] = []
    channels, size = in_channels, input_size
    for stage in stages:
        for out_channels in stage:
            layers += [layer.Conv2d(channels, out_channels, 3, 1, 1, bias=False), layer.BatchNorm2d(out_channels), plif_paper_neuron()]
            channels = out_channels
        layers.append(layer.MaxPool2d(2, 2))
        size //= 2
    layers += [
        layer.Flatten(), layer.Dropout(dropout), layer.Linear(channels * size * size, fc_features, bias=False), plif_paper_neuron(),
        layer.Dropout(dropout), layer.Linear(fc_features, voting * num_classes, bias=False), plif_paper_neuron(), layer.VotingLayer(voting),
    ]  # fmt: skip
    net = nn.Sequential(*layers)
    functional.set_step_mode(net, "m")
    return net


class SJSEWBlock(nn.Module):
    """A basic SEW block (ADD): conv3x3-BN-IF, conv3x3-BN-IF, plus the (downsampled) input spikes."""

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        from spikingjelly.activation_based import layer

        self.body = nn.Sequential(
            layer.Conv2d(in_channels, planes, 3, stride, 1, bias=False), layer.BatchNorm2d(planes), imp_imagenet_neuron(),
            layer.Conv2d(planes, planes, 3, 1, 1, bias=False), layer.BatchNorm2d(planes), imp_imagenet_neuron(),
        )  # fmt: skip
        self.downsample = None
        if stride != 1 or in_channels != planes:
            self.downsample = nn.Sequential(layer.Conv2d(in_channels, planes, 1, stride, 0, bias=False), layer.BatchNorm2d(planes), imp_imagenet_neuron())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spikes + input spikes (SEW's ADD connection)."""
        identity = x if self.downsample is None else self.downsample(x)
        return self.body(x) + identity


def sj_sew_resnet18(in_channels: int = 3, input_size: int = 224, num_classes: int = 1000) -> nn.Module:
    """Stem conv7x7/2-BN-IF-maxpool3/2, basic SEW blocks [2, 2, 2, 2], global average pool, linear."""
    from spikingjelly.activation_based import functional, layer

    del input_size  # the global pool makes the layers independent of it
    blocks: list[nn.Module] = []
    channels = 64
    for index, planes in enumerate((64, 128, 256, 512)):
        for position in range(2):
            blocks.append(SJSEWBlock(channels, planes, 2 if index > 0 and position == 0 else 1))
            channels = planes
    net = nn.Sequential(
        layer.Conv2d(in_channels, 64, 7, 2, 3, bias=False), layer.BatchNorm2d(64), imp_imagenet_neuron(), layer.MaxPool2d(3, 2, 1),
        *blocks, layer.AdaptiveAvgPool2d(1), layer.Flatten(), layer.Linear(channels, num_classes),
    )  # fmt: skip
    functional.set_step_mode(net, "m")
    return net


def _plifnet_cifar10dvs(input_size: int = 128, **options: int) -> nn.Module:
    return sj_plifnet([[128]] * 4, fc_features=2048, in_channels=2, input_size=input_size, **options)


BUILDERS: dict[str, Callable[..., nn.Module]] = {"plifnet_cifar10dvs": _plifnet_cifar10dvs, "sew_resnet18": sj_sew_resnet18}


def copy_parameters(source: nn.Module, target: nn.Module) -> None:
    """Copy ``source``'s parameters into ``target`` in order; raise unless the two lists match shape for shape."""
    ours, theirs = list(source.parameters()), list(target.parameters())
    shapes = [tuple(p.shape) for p in ours], [tuple(p.shape) for p in theirs]
    if shapes[0] != shapes[1]:
        count = sum(p.numel() for p in ours), sum(p.numel() for p in theirs)
        raise AssertionError(f"SJ network differs from spikedyn's: {count[1]:,} vs {count[0]:,} parameters, shapes {shapes[1]} vs {shapes[0]}")
    with torch.no_grad():
        for mine, other in zip(ours, theirs):
            other.copy_(mine)


def build_sj_network(name: str, **options: int) -> nn.Module:
    """The SJ twin of ``build_model(name, **options)``, checked against it and starting from its weights."""
    from spikedyn.models import build_model

    if name not in BUILDERS:
        raise ValueError(f"no SpikingJelly twin of {name!r}; known: {sorted(BUILDERS)}")
    net = BUILDERS[name](**options)
    copy_parameters(build_model(name, **options), net)
    return net

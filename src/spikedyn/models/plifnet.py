"""The PLIF paper's networks (Table S1): {conv-BN-neuron-pool}*n, two dropout-FC-neuron, voting."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from spikedyn.layers import (
    StaticImageEncoder,
    TemporalDropout,
    TimeDistributed,
    VotingLayer,
    spike_pool,
)
from spikedyn.models.network import NeuronFactory, SpikingNetwork
from spikedyn.models.neurons import plif_paper_neuron
from spikedyn.models.registry import register_variant
from spikedyn.neurons.parameters import check_choice


class PLIFNet(SpikingNetwork):
    """Conv stages of c{ch}k3s1 (no bias) - BN - neuron, each stage ending in a k2s2 pooling,
    then DP - FC{fc_features} (no bias) - neuron - DP - FC{voting * classes} - neuron - voting;
    ``dropout_before_fc2=False`` leaves out the second DP. Every layer keeps PyTorch's default
    initialisation, as in the PLIF authors' ``codes/models.py``.

    Output: class scores per step [T, B, num_classes], each the firing rate of a group of
    ``voting`` neurons. ``readout="linear"`` ends instead in one FC{num_classes} (with bias)
    whose outputs are the scores, not spikes, as the IMP code's VGG and SEW heads: a loss on
    rates in [0, 1] (cross-entropy above about 1.46 for 10 classes) cannot compare objectives
    fairly. ``static_encoder=True`` runs the first conv and BN once per image (static
    datasets), which then also accepts images [B, C, H, W] given ``time_steps``.
    """

    def __init__(
        self,
        name: str,
        *,
        stages: Sequence[Sequence[int]],
        fc_features: int,
        in_channels: int,
        input_size: int,
        num_classes: int,
        neuron: NeuronFactory,
        pooling: str = "max",
        dropout: float = 0.5,
        voting: int = 10,
        dropout_before_fc2: bool = True,
        readout: str = "voting",
        static_encoder: bool = False,
        time_steps: int | None = None,
    ) -> None:
        super().__init__(name, (in_channels, input_size, input_size), neuron)
        check_choice("readout", readout, READOUTS)
        self.static_encoder = static_encoder
        layers: list[nn.Module] = []
        channels, size = in_channels, input_size
        for stage in stages:
            for out_channels in stage:
                conv_bn = (nn.Conv2d(channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels))
                first = not layers
                layers.append(StaticImageEncoder(nn.Sequential(*conv_bn), time_steps) if first and static_encoder else TimeDistributed(*conv_bn))
                layers.append(self.spiking_layer((out_channels, size, size)))
                channels = out_channels
            layers.append(spike_pool(pooling, 2, 2))
            size //= 2
        if size < 1:
            raise ValueError(f"{name}: input size {input_size} is too small for {len(stages)} poolings by 2")
        self.features = nn.Sequential(*layers)
        body = [
            TimeDistributed(nn.Flatten()),
            TemporalDropout(dropout),
            TimeDistributed(nn.Linear(channels * size * size, fc_features, bias=False)),
            self.spiking_layer((fc_features,)),
            # Identity keeps the state-dict keys, so one checkpoint loads into either layout.
            TemporalDropout(dropout) if dropout_before_fc2 else nn.Identity(),
        ]
        # built after the body: the layers draw their initial weights in the order the seed runs always drew them
        if readout == "voting":
            output_neurons = voting * num_classes
            head = [TimeDistributed(nn.Linear(fc_features, output_neurons, bias=False)), self.spiking_layer((output_neurons,)), VotingLayer(voting)]
        else:
            head = [TimeDistributed(nn.Linear(fc_features, num_classes))]
        self.classifier = nn.Sequential(*body, *head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores [T, B, num_classes] from frames [T, B, C, H, W] (or images with the static encoder)."""
        if not (self.static_encoder and x.dim() == 4 and tuple(x.shape[1:]) == self.input_shape):
            self.check_input(x)
        return self.classifier(self.features(x))


READOUTS = ("voting", "linear")
COMMON = dict(neuron=plif_paper_neuron, num_classes=10, pooling="max", dropout=0.5, voting=10, dropout_before_fc2=True, readout="voting")
STATIC = dict(static_encoder=False, time_steps=None)

register_variant(
    "plifnet_mnist",
    partial(PLIFNet, "plifnet_mnist", stages=[[128]] * 2),
    "MNIST, Fashion-MNIST (1x28x28): {c128k3s1-BN-neuron-MPk2s2}*2-DP-FC2048-neuron-DP-FC100-neuron-APk10s10.",
    **COMMON, **STATIC, in_channels=1, input_size=28, fc_features=2048,
)
register_variant(
    "plifnet_nmnist",
    partial(PLIFNet, "plifnet_nmnist", stages=[[128]] * 2),
    "plifnet_mnist for N-MNIST's two-polarity 34x34 frames.",
    **COMMON, in_channels=2, input_size=34, fc_features=2048,
)
register_variant(
    "plifnet_cifar10",
    partial(PLIFNet, "plifnet_cifar10", stages=[[256] * 3] * 2),
    """CIFAR-10 (3x32x32): {{c256k3s1-BN-neuron}*3-MPk2s2}*2-DP-FC2048-neuron-FC100-neuron-APk10s10.

    Table S1 prints DP-FC2048-PLIF-DP-FC100, but the authors' released code
    (fangwei123456/Parametric-Leaky-Integrate-and-Fire-Spiking-Neuron, ``codes/models.py``,
    ``Cifar10Net``, L163-172; its ``logs/`` hold the CIFAR-10 runs) has no dropout before the
    second FC; so that is the default and ``dropout_before_fc2=True`` builds Table S1 as printed.
    Their other networks (L107-117, ``create_2fc`` L50-59) have both dropouts, as printed.
    """,
    **{**COMMON, "dropout_before_fc2": False}, **STATIC, in_channels=3, input_size=32, fc_features=2048,
)
register_variant(
    "plifnet_cifar10dvs",
    partial(PLIFNet, "plifnet_cifar10dvs", stages=[[128]] * 4),
    """CIFAR10-DVS (2x128x128): {c128k3s1-BN-neuron-MPk2s2}*4-DP-FC{fc_features}-neuron-DP-FC100-neuron-APk10s10.

    Table S1 prints FC512, but the paper's text ("the out features of the first FC layer is a
    quarter of the in features": 128*8*8/4) and the authors' released code use 2048, and the
    reported accuracy was trained with that code; so the default is 2048 and
    ``fc_features=512`` builds Table S1 as printed.
    """,
    **COMMON, in_channels=2, input_size=128, fc_features=2048,
)
register_variant(
    "plifnet_dvs128gesture",
    partial(PLIFNet, "plifnet_dvs128gesture", stages=[[128]] * 5),
    "DVS128 Gesture (2x128x128): {c128k3s1-BN-neuron-MPk2s2}*5-DP-FC512-neuron-DP-FC110-neuron-APk10s10.",
    **{**COMMON, "num_classes": 11}, in_channels=2, input_size=128, fc_features=512,
)

"""Spike pooling over sequences: max-pooling keeps spikes binary, average pooling does not."""

from __future__ import annotations

from torch import nn

from spikedyn.layers.temporal import TimeDistributed
from spikedyn.neurons.parameters import check_choice

POOLINGS = ("max", "avg")


class SpikeMaxPool2d(TimeDistributed):
    """Max-pooling of spikes (PLIF paper Sec. 3.6): a spiking neuron in the window passes a 1.

    Where several neurons fire at once the gradient goes to the first of them in the
    window (torch's tie rule); the paper picks one at random, which is the same in law
    for the forward pass and differs only in which tied neuron gets the gradient.
    """

    def __init__(self, kernel_size: int = 2, stride: int | None = None, padding: int = 0) -> None:
        super().__init__(nn.MaxPool2d(kernel_size, stride, padding))


class SpikeAvgPool2d(TimeDistributed):
    """Average pooling of spikes: outputs are fractions, no longer spikes."""

    def __init__(self, kernel_size: int = 2, stride: int | None = None, padding: int = 0) -> None:
        super().__init__(nn.AvgPool2d(kernel_size, stride, padding))


def spike_pool(kind: str, kernel_size: int = 2, stride: int | None = None, padding: int = 0) -> TimeDistributed:
    """The pooling layer named by ``kind`` ("max" or "avg"): the PLIF paper's Table 5 switch."""
    check_choice("pooling", kind, POOLINGS)
    layer = SpikeMaxPool2d if kind == "max" else SpikeAvgPool2d
    return layer(kernel_size, stride, padding)

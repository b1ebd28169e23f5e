"""plifnet_mnist written with SpikingJelly's own layers, as the PLIF authors would: the oracle
for tests/models/test_spikingjelly_oracle.py and the contender in benchmarks/models.py."""

from __future__ import annotations

from torch import nn


def spikingjelly_plifnet_mnist(dropout: float = 0.5) -> nn.Module:
    """Table S1's *MNIST net in SpikingJelly 2.0.0, multi-step mode (on the CPU its neurons run the Torch reference)."""
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    def plif() -> nn.Module:
        return neuron.ParametricLIFNode(init_tau=2.0, detach_reset=True, v_reset=0.0, surrogate_function=surrogate.ATan())

    net = nn.Sequential(
        layer.Conv2d(1, 128, 3, padding=1, bias=False), layer.BatchNorm2d(128), plif(), layer.MaxPool2d(2, 2),
        layer.Conv2d(128, 128, 3, padding=1, bias=False), layer.BatchNorm2d(128), plif(), layer.MaxPool2d(2, 2),
        layer.Flatten(), layer.Dropout(dropout), layer.Linear(128 * 7 * 7, 2048, bias=False), plif(),
        layer.Dropout(dropout), layer.Linear(2048, 100, bias=False), plif(), layer.VotingLayer(10),
    )  # fmt: skip
    functional.set_step_mode(net, "m")
    return net

"""A network behind a spike encoder (Poisson, latency): what a config with ``model.encoder`` builds."""

from __future__ import annotations

import torch
from torch import nn


class EncodedNetwork(nn.Module):
    """``network(encoder(x))``: the frames [T, B, ...] a dataset gives, encoded as spikes, then the network.

    The encoder holds no parameters, so the network's weights sit under ``network.`` in the
    state dict. A network whose input is encoded gets spikes in its first layer: the energy
    estimate counts accumulates (SOPs) there rather than multiply-accumulates.
    """

    def __init__(self, encoder: nn.Module, network: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output for the encoded input."""
        return self.network(self.encoder(x))

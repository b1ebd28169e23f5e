"""Time-aware layers: fold T into the batch, dropout with one mask for all steps, spike
pooling, voting, temporal effective BN and the static-image encoder."""

from spikedyn.layers.dropout import TemporalDropout
from spikedyn.layers.encoder import StaticImageEncoder
from spikedyn.layers.pooling import POOLINGS, SpikeAvgPool2d, SpikeMaxPool2d, spike_pool
from spikedyn.layers.tebn import TemporalEffectiveBatchNorm2d
from spikedyn.layers.temporal import TimeDistributed
from spikedyn.layers.voting import VotingLayer

__all__ = [
    "POOLINGS",
    "SpikeAvgPool2d",
    "SpikeMaxPool2d",
    "StaticImageEncoder",
    "TemporalDropout",
    "TemporalEffectiveBatchNorm2d",
    "TimeDistributed",
    "VotingLayer",
    "spike_pool",
]

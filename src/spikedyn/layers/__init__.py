"""Time-aware layers: fold T into the batch, dropout with one mask for all steps, spike
pooling, voting, temporal effective BN, the static-image encoder and the spike encoders."""

from spikedyn.layers.dropout import TemporalDropout
from spikedyn.layers.encoder import StaticImageEncoder
from spikedyn.layers.encoders import ENCODERS, DirectEncoder, LatencyEncoder, PoissonEncoder, build_encoder
from spikedyn.layers.pooling import POOLINGS, SpikeAvgPool2d, SpikeMaxPool2d, spike_pool
from spikedyn.layers.tebn import TemporalEffectiveBatchNorm2d
from spikedyn.layers.temporal import TimeDistributed
from spikedyn.layers.voting import VotingLayer

__all__ = [
    "ENCODERS",
    "POOLINGS",
    "DirectEncoder",
    "LatencyEncoder",
    "PoissonEncoder",
    "SpikeAvgPool2d",
    "SpikeMaxPool2d",
    "StaticImageEncoder",
    "TemporalDropout",
    "TemporalEffectiveBatchNorm2d",
    "TimeDistributed",
    "VotingLayer",
    "build_encoder",
    "spike_pool",
]

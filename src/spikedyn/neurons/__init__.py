"""Spiking neurons with learnable dynamics: IF, LIF, PLIF (tau per layer/channel/neuron), IMP."""

from spikedyn.neurons.backends import get_default_backend, set_default_backend, use_backend
from spikedyn.neurons.base import BaseNeuron
from spikedyn.neurons.dynamics import Dynamics, neuron_step
from spikedyn.neurons.modules import IF, LIF, PLIF

__all__ = [
    "IF",
    "LIF",
    "PLIF",
    "BaseNeuron",
    "Dynamics",
    "neuron_step",
    "get_default_backend",
    "set_default_backend",
    "use_backend",
]

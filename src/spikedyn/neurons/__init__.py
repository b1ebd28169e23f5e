"""Spiking neurons with learnable dynamics: IF, LIF, PLIF (tau per layer/channel/neuron), IMP, a learned threshold,
ALIF (adaptive threshold) and CubaLIF (synaptic current)."""

from spikedyn.neurons.backends import get_default_backend, set_default_backend, use_backend
from spikedyn.neurons.base import BaseNeuron
from spikedyn.neurons.dynamics import Dynamics, Quantities, State, extended_step, neuron_step
from spikedyn.neurons.extended_modules import ALIF, CubaLIF
from spikedyn.neurons.modules import IF, LIF, PLIF

__all__ = [
    "ALIF",
    "CubaLIF",
    "IF",
    "LIF",
    "PLIF",
    "BaseNeuron",
    "Dynamics",
    "Quantities",
    "State",
    "extended_step",
    "neuron_step",
    "get_default_backend",
    "set_default_backend",
    "use_backend",
]

"""spikedyn: spiking neural networks whose neuron dynamics are learned with the weights."""

__version__ = "0.1.0"

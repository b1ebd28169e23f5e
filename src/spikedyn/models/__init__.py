"""The seeds' networks, built by name with a neuron factory: PLIF nets, VGG-11, SEW-ResNet."""

from spikedyn.models import plifnet, sew_resnet, vgg  # noqa: F401  (registers the builders)
from spikedyn.models.encoded import EncodedNetwork
from spikedyn.models.network import NeuronFactory, SpikingNetwork
from spikedyn.models.neurons import imp_imagenet_neuron, imp_paper_neuron, plif_paper_neuron
from spikedyn.models.registry import (
    build_model,
    list_models,
    model_options,
    register_model,
    register_variant,
)

__all__ = [
    "EncodedNetwork",
    "NeuronFactory",
    "SpikingNetwork",
    "build_model",
    "imp_imagenet_neuron",
    "imp_paper_neuron",
    "list_models",
    "model_options",
    "plif_paper_neuron",
    "register_model",
    "register_variant",
]

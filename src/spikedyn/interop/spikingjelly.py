"""``from_spikingjelly``: a SpikingJelly 2.0 network as a spikedyn network with the same outputs.

Converted: ``nn.Sequential`` (kept, with its children's names), ``layer.SeqToANNContainer``
of per-sample torch layers (-> :class:`TimeDistributed`), SpikingJelly's multi-step stateless
layers (:mod:`spikedyn.interop.spikingjelly_layers`), ``layer.Dropout`` (-> TemporalDropout)
and IFNode, LIFNode, ParametricLIFNode (:mod:`spikedyn.interop.spikingjelly_neurons`). Anything
else, a module with its own forward pass (a residual block), a neuron in single-step mode or
with an option spikedyn lacks, is refused: one error names every such module by its path.
SpikingJelly is imported on first use only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from itertools import chain

import torch
from torch import nn

from spikedyn.interop.spikingjelly_layers import (
    PLAIN_LAYERS,
    PLAIN_NAMES,
    Refused,
    check_unhooked,
    multi_step_layer,
    plain_layer,
    spikingjelly_modules,
    wrapped_torch_class,
)
from spikedyn.interop.spikingjelly_neurons import convert_neuron, is_neuron
from spikedyn.layers import TimeDistributed

__all__ = ["SpikingJellyConversionError", "from_spikingjelly"]

CONVERTED = ("nn.Sequential, layer.SeqToANNContainer of torch layers, SpikingJelly's multi-step Conv, Linear, BatchNorm, "
             "pooling, Flatten, Dropout and VotingLayer, and neuron.IFNode, LIFNode and ParametricLIFNode")  # fmt: skip


class SpikingJellyConversionError(ValueError):
    """The SpikingJelly network holds modules spikedyn cannot reproduce exactly; the message names each by its path."""


def describe(module: nn.Module) -> str:
    """A module's class as its library writes it: ``neuron.LIFNode``, ``layer.Conv2d``, ``nn.Conv2d``."""
    cls = type(module)
    parts = cls.__module__.split(".")
    if parts[:2] == ["spikingjelly", "activation_based"] and len(parts) > 2:
        return f"{parts[2]}.{cls.__name__}"
    if parts[:2] == ["torch", "nn"]:
        return f"nn.{cls.__name__}"
    return cls.__name__


class _Converter:
    """Walks the SpikingJelly network once, building its spikedyn twin and noting every refusal."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.problems: list[str] = []

    def refuse(self, path: str, module: nn.Module, reason: str) -> nn.Module:
        self.problems.append(f"{path or 'the network'} ({describe(module)}): {reason}")
        return nn.Identity()  # a stand-in: the conversion fails once the walk is over

    def sequence(self, module: nn.Module, path: str) -> nn.Module:
        """The spikedyn module for one that takes [T, B, ...]."""
        try:
            check_unhooked(module)
            if type(module) is nn.Sequential:
                return self._children(module, path, self.sequence)
            if type(module) is spikingjelly_modules().layer.SeqToANNContainer:
                inner = self._children(module, path, self.per_step)
                layers = list(inner.children())
                if not layers:
                    return inner  # empty: the identity, as in SpikingJelly
                wrapped = TimeDistributed(layers[0] if len(layers) == 1 else inner)
                wrapped.training = module.training
                return wrapped
            if is_neuron(module):
                return convert_neuron(module, self.device)
            converted = multi_step_layer(module)
            if converted is not None:
                return converted
            if type(module) in PLAIN_LAYERS:
                raise Refused("a plain torch layer here would take [T, B, ...] as its batch: wrap it in "
                              "layer.SeqToANNContainer(...) or use SpikingJelly's layer with step_mode='m'")  # fmt: skip
            raise Refused(f"no rule converts it (custom modules, residual blocks and other branching forward passes "
                          f"cannot be read as a chain); converted: {CONVERTED}")  # fmt: skip
        except Refused as refusal:
            return self.refuse(path, module, str(refusal))

    def per_step(self, module: nn.Module, path: str) -> nn.Module:
        """The torch layer for one inside SeqToANNContainer, which runs on [T*B, ...]."""
        try:
            check_unhooked(module)
            if type(module) is nn.Sequential:
                return self._children(module, path, self.per_step)
            if wrapped_torch_class(module) is not None and module.step_mode != "s":
                raise Refused(f"inside layer.SeqToANNContainer, which folds T into the batch, a layer runs one step "
                              f"at a time: step_mode must be 's', not {module.step_mode!r}")  # fmt: skip
            if type(module) in PLAIN_LAYERS or wrapped_torch_class(module) is not None:
                return plain_layer(module)
            raise Refused("inside layer.SeqToANNContainer only per-sample torch layers are converted (a neuron or another "
                          f"stateful module there would see T*B samples as one step): {PLAIN_NAMES}")  # fmt: skip
        except Refused as refusal:
            return self.refuse(path, module, str(refusal))

    def _children(self, module: nn.Module, path: str, convert: Callable[[nn.Module, str], nn.Module]) -> nn.Sequential:
        """An nn.Sequential of ``module``'s children, each converted by ``convert`` under its own name."""
        children = OrderedDict((name, convert(child, f"{path}.{name}" if path else name)) for name, child in module.named_children())
        converted = nn.Sequential(children)
        converted.training = module.training
        return converted


def from_spikingjelly(module: nn.Module) -> nn.Module:
    """A spikedyn network with ``module``'s outputs (multi-step SpikingJelly 2.0), its tensors copied.

    It takes [T, B, ...] like the SpikingJelly network in multi-step mode and gives the same
    spikes in train and eval mode, BatchNorm statistics included; an ``nn.Sequential`` comes
    back as an ``nn.Sequential`` with the same child names. Reset the SpikingJelly network
    (``functional.reset_net``) before converting it. What cannot be converted raises one
    :class:`SpikingJellyConversionError` naming each module by its dotted path.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_spikingjelly expects a torch nn.Module, got {type(module).__name__}")
    spikingjelly_modules()  # a clear ImportError before anything else when SpikingJelly is missing
    first = next(chain(module.parameters(), module.buffers()), None)
    converter = _Converter(torch.device("cpu") if first is None else first.device)
    converted = converter.sequence(module, "")
    if converter.problems:
        lines = "\n".join(f"  - {problem}" for problem in converter.problems)
        raise SpikingJellyConversionError(f"cannot convert this SpikingJelly network to spikedyn:\n{lines}")
    return converted

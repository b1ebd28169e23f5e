"""What every spikedyn network shares: the neuron factory, the input-size check, its counts."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

NeuronFactory = Callable[..., nn.Module]


class SpikingNetwork(nn.Module):
    """Base of the built networks: input [T, B, C, H, W] checked against the size built for.

    Subclasses create every spiking layer through :meth:`spiking_layer`, which calls the
    user's ``neuron`` factory as ``neuron(shape=feature_shape)`` with the shape computed
    by the builder, so per-neuron tau and IMP exist before any forward pass.
    """

    def __init__(self, name: str, input_shape: Sequence[int], neuron: NeuronFactory) -> None:
        super().__init__()
        if not callable(neuron):
            raise TypeError(f"neuron must be a callable neuron(shape=...) -> nn.Module, got {type(neuron).__name__}")
        self.name = name
        self.input_shape = tuple(int(d) for d in input_shape)
        self.neuron_factory = neuron
        self.neuron_shapes: list[tuple[int, ...]] = []

    def spiking_layer(self, shape: Sequence[int]) -> nn.Module:
        """A new spiking layer for features of ``shape``, made by the neuron factory."""
        shape = tuple(int(d) for d in shape)
        try:
            layer = self.neuron_factory(shape=shape)
        except TypeError as error:
            raise TypeError(f"the neuron factory must accept a keyword shape=(C, H, W) or (features,): {error}") from error
        if not isinstance(layer, nn.Module):
            raise TypeError(f"the neuron factory must return an nn.Module, got {type(layer).__name__}")
        self.neuron_shapes.append(shape)
        return layer

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError naming the built input size unless ``x`` is [T, B, *input_shape]."""
        expected = f"[T, B, {', '.join(map(str, self.input_shape))}]"
        if not isinstance(x, torch.Tensor) or x.dim() != 2 + len(self.input_shape) or tuple(x.shape[2:]) != self.input_shape:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} was built for input {expected}, got {got}")

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameter values (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def num_spiking_neurons(self) -> int:
        """Number of spiking neurons per sample and time step, over all spiking layers."""
        return sum(math.prod(shape) for shape in self.neuron_shapes)

    def summary(self) -> str:
        """One line: name, input size, parameter and spiking-neuron counts."""
        return (
            f"{self.name}: input {list(self.input_shape)}, {self.num_parameters():,} parameters, "
            f"{self.num_spiking_neurons():,} spiking neurons in {len(self.neuron_shapes)} layers"
        )

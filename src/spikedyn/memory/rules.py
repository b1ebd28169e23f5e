"""What each kind of layer outputs, known from what it computes rather than from its data.

- A spiking neuron (IF, LIF, PLIF, ALIF, CubaLIF) fires S = (H >= theta) as 0/1 on every backend:
  binary (on the reference path, as long as its surrogate keeps the Heaviside forward).
- Max pooling outputs some of its input's values: the input's levels.
- Average pooling over a power-of-two window without padding outputs window sums / area:
  levels * area, scale / area, exact while the count stays within a byte.
- A SEW block's output joins binary spikes with its shortcut: ``add`` adds one level,
  ``and`` and ``iand`` keep the shortcut's levels.
- Max pooling saves int64 indices into the input's spatial plane: a narrower integer holds them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from spikedyn.memory.packing import BINARY, MAX_LEVEL, Levels, is_power_of_two
from spikedyn.models.sew_resnet import SEWBlock
from spikedyn.neurons.backends import kernel_for
from spikedyn.neurons.base import BaseNeuron
from spikedyn.surrogate import Surrogate

MAX_POOLS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
AVG_POOLS = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)


def is_builtin_neuron(module: nn.Module) -> bool:
    """A neuron whose forward is :class:`BaseNeuron`'s own (IF, LIF, PLIF): its outputs and H are known."""
    return isinstance(module, BaseNeuron) and type(module).forward is BaseNeuron.forward


def runs_fused(neuron: BaseNeuron, x: torch.Tensor) -> bool:
    """True when ``neuron`` runs ``x`` through the fused operator, which saves H (and its parameters) and nothing else."""
    return not getattr(neuron, "extended", False) and kernel_for(neuron.backend, x, neuron.dynamics) != "reference"


def fires_binary(neuron: BaseNeuron, x: torch.Tensor) -> bool:
    """True when ``neuron``'s spikes for input ``x`` are 0/1 by construction."""
    if not is_builtin_neuron(neuron):
        return False
    if runs_fused(neuron, x):
        return True  # every fused kernel writes (H >= V_th) in x's dtype
    return type(neuron.dynamics.surrogate).__call__ is Surrogate.__call__  # the step functions fire through spike()


def _tuple(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def avg_pool_levels(pool: nn.Module, levels: Levels) -> Levels | None:
    """The levels of an average pool's output for input ``levels``, None where not exact."""
    dims = AVG_POOLS.index(type(pool)) + 1
    area = math.prod(_tuple(pool.kernel_size, dims))
    if any(_tuple(pool.padding, dims)) or pool.ceil_mode or pool.divisor_override is not None:
        return None
    if not is_power_of_two(area) or levels.count * area > MAX_LEVEL:
        return None
    return Levels(levels.count * area, levels.scale / area)


def sew_levels(block: SEWBlock, body: Levels | None, shortcut: Levels | None) -> Levels | None:
    """The levels of a SEW block's output from its body's last spikes and its shortcut's levels."""
    if type(block).forward is not SEWBlock.forward or body != BINARY or shortcut is None:
        return None
    if block.connect in ("and", "iand"):
        return shortcut  # a * s and (1 - a) * s with a in {0, 1}: values of s or 0
    if block.connect == "add" and shortcut.scale == 1.0 and shortcut.count < MAX_LEVEL:
        return Levels(shortcut.count + 1, 1.0)
    return None


def index_dtype(pool: nn.Module, x: torch.Tensor) -> torch.dtype | None:
    """The narrowest integer dtype holding ``pool``'s indices into ``x``'s spatial plane, None if int64 is needed."""
    dims = MAX_POOLS[type(pool)]
    if x.dim() <= dims:
        return None
    plane = math.prod(x.shape[-dims:])
    if plane <= 1 << 15:
        return torch.int16
    return torch.int32 if plane <= 1 << 31 else None

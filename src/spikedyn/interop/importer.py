"""``from_nir``: a NIR graph as a spikedyn module that runs whole sequences [T, B, ...].

Each NIR node becomes a multi-step layer: Affine and Linear, Conv2d, Flatten, AvgPool2d and
SumPool2d (sum = average with divisor 1) run per step through :class:`TimeDistributed`;
IF and LIF become spikedyn neurons by :mod:`spikedyn.interop.neuron_mapping`; Scale
multiplies. NIR shapes have no batch dimension, so Flatten's dimensions are shifted past
the folded batch. Recurrent edges, nested graphs and node types spikedyn has no layer for
(CubaLIF, LI, I, Delay, Threshold, Conv1d) are refused, all named in one error.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import nir
import numpy as np
import torch
from torch import nn

from spikedyn.interop.modules import FixedLIF, GraphNetwork, InputGain
from spikedyn.interop.neuron_mapping import check_dt, from_nir_neuron
from spikedyn.layers import TimeDistributed
from spikedyn.neurons import IF

#: The float type of the imported modules (thresholds are exact for it).
DTYPE = np.float32


class NIRImportError(ValueError):
    """The graph holds something spikedyn cannot run; the message names each node."""


def _tensor(value: object) -> torch.Tensor:
    """A float32 tensor from a NIR field (numpy arrays; Norse's exporter leaves torch tensors)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float32).clone()
    return torch.from_numpy(np.array(value, dtype=DTYPE))


def _ints(value: object) -> tuple[int, ...] | str:
    if isinstance(value, str):
        return value
    return tuple(int(v) for v in np.atleast_1d(np.asarray(value)))


def _affine(node: nir.NIRNode) -> nn.Module:
    weight = _tensor(node.weight)
    bias = getattr(node, "bias", None)
    linear = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(_tensor(bias))
    return TimeDistributed(linear)


def _conv2d(node: nir.Conv2d) -> nn.Module:
    weight = _tensor(node.weight)
    conv = nn.Conv2d(weight.shape[1] * node.groups, weight.shape[0], tuple(weight.shape[2:]), stride=_ints(node.stride),
                     padding=_ints(node.padding), dilation=_ints(node.dilation), groups=node.groups)  # fmt: skip
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(_tensor(node.bias) if node.bias is not None else torch.zeros(weight.shape[0]))
    return TimeDistributed(conv)


def _flatten(node: nir.Flatten) -> nn.Module:
    end = int(node.end_dim)
    return TimeDistributed(nn.Flatten(int(node.start_dim) + 1, end + 1 if end >= 0 else end))


def _pool(node: nir.NIRNode) -> nn.Module:
    divisor = 1 if isinstance(node, nir.SumPool2d) else None
    return TimeDistributed(nn.AvgPool2d(_ints(node.kernel_size), _ints(node.stride), _ints(node.padding), divisor_override=divisor))


def _neuron(node: nir.NIRNode, name: str, dt: float) -> nn.Module:
    dyn = from_nir_neuron(node, name, dt, np.dtype(DTYPE))
    options = dict(v_threshold=dyn.v_threshold, v_reset=dyn.v_reset)
    if dyn.k is None:
        neuron = IF(**options)
    else:
        k = torch.from_numpy(np.array(dyn.k, dtype=np.float64))
        neuron = FixedLIF(k.reshape(()) if k.numel() == 1 else k, decay_input=dyn.decay_input, **options)
    if dyn.input_gain is None:
        return neuron
    return nn.Sequential(InputGain(_tensor(dyn.input_gain)), neuron)


def _layer_makers(dt: float) -> dict[type, Callable[[nir.NIRNode, str], nn.Module]]:
    return {
        nir.Affine: lambda node, name: _affine(node),
        nir.Linear: lambda node, name: _affine(node),
        nir.Conv2d: lambda node, name: _conv2d(node),
        nir.Flatten: lambda node, name: _flatten(node),
        nir.AvgPool2d: lambda node, name: _pool(node),
        nir.SumPool2d: lambda node, name: _pool(node),
        nir.Scale: lambda node, name: InputGain(_tensor(node.scale)),
        nir.IF: lambda node, name: _neuron(node, name, dt),
        nir.LIF: lambda node, name: _neuron(node, name, dt),
    }


def _order(graph: nir.NIRGraph) -> list[str]:
    """The nodes in an order where each comes after its inputs; a NIRImportError names a cycle's nodes."""
    pending = {name: {src for src, dst in graph.edges if dst == name} for name in graph.nodes}
    order: list[str] = []
    while pending:
        ready = [name for name, sources in pending.items() if not sources]
        if not ready:
            raise NIRImportError(f"the graph has recurrent edges among {sorted(pending)}: spikedyn runs each layer "
                                 "over all T steps at once and cannot feed a step's output back")  # fmt: skip
        for name in ready:
            order.append(name)
            del pending[name]
        for sources in pending.values():
            sources.difference_update(ready)
    return order


def _single(graph: nir.NIRGraph, kind: type) -> str:
    names = [name for name, node in graph.nodes.items() if isinstance(node, kind)]
    if len(names) != 1:
        raise NIRImportError(f"spikedyn imports graphs with one {kind.__name__} node, this one has {len(names)}: {names}")
    return names[0]


def from_nir(graph: nir.NIRGraph | str | os.PathLike[str], dt: float = 1e-4) -> GraphNetwork:
    """A spikedyn module [T, B, *input_shape] -> [T, B, *output_shape] running ``graph`` in steps of ``dt`` seconds.

    ``graph`` may also be the path of a .nir file. A :class:`NIRImportError` names every node
    of a type spikedyn has no layer for; a ValueError names a neuron whose parameters do not fit.
    """
    dt = check_dt(dt)
    if not isinstance(graph, nir.NIRGraph):
        graph = nir.read(os.fspath(graph))
    connected = {src for src, _ in graph.edges} | {dst for _, dst in graph.edges}
    loose = [name for name in graph.nodes if name not in connected]
    makers = _layer_makers(dt)
    refused = [f"{name} ({type(node).__name__})" for name, node in graph.nodes.items()
               if not isinstance(node, (nir.Input, nir.Output)) and type(node) not in makers]  # fmt: skip
    if refused:
        raise NIRImportError(f"spikedyn has no layer for these NIR nodes: {', '.join(refused)} (it imports "
                             f"{', '.join(sorted(t.__name__ for t in makers))}; nested graphs and recurrence are not imported)")  # fmt: skip
    if loose:
        raise NIRImportError(f"nodes {loose} are connected to nothing")
    source, sink = _single(graph, nir.Input), _single(graph, nir.Output)
    keys = {name: name.replace(".", "_") for name in graph.nodes}
    if len(set(keys.values())) != len(keys):
        raise NIRImportError("node names must stay distinct with '.' read as '_' (torch module names cannot hold dots)")
    order = _order(graph)
    layers = {keys[name]: makers[type(graph.nodes[name])](graph.nodes[name], name) for name in order if type(graph.nodes[name]) in makers}
    inputs = {keys[name]: [keys[src] for src, dst in graph.edges if dst == name] for name in graph.nodes}
    return GraphNetwork(layers, [keys[name] for name in order], inputs, keys[source], keys[sink])

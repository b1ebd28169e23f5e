"""``from_nir``: a NIR graph as a spikedyn module that runs whole sequences [T, B, ...].

Each NIR node becomes a multi-step layer: Affine and Linear, Conv2d, Flatten, AvgPool2d and
SumPool2d (sum = average with divisor 1) run per step through :class:`TimeDistributed`;
IF, LIF and CubaLIF become spikedyn neurons with fixed per-neuron parameters
(:mod:`spikedyn.interop.modules`) by :mod:`spikedyn.interop.neuron_mapping`, a threshold that
differs across a node's neurons included; Scale multiplies. NIR shapes have no batch
dimension, so Flatten's dimensions are shifted past the folded batch. Recurrent edges, nested
graphs and node types spikedyn has no layer for (LI, I, Delay, Threshold, Conv1d) are
refused, all named in one error.

A file is read by :func:`~spikedyn.interop.nir_reader.read_nir`, never by ``nir.read``: a NIR
file may come from anyone, and nir's reader follows links out of the file, reads whatever size
a dataset declares and recurses without bound. Every graph, read or given, is checked against
:class:`~spikedyn.interop.nir_limits.NIRLimits` (nodes, edges) and for finite parameters
(:mod:`spikedyn.interop.nir_checks`) before any layer is built.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable

import nir
import numpy as np
import torch
from torch import nn

from spikedyn.interop.modules import FixedCubaLIF, FixedIF, FixedLIF, GraphNetwork, InputGain
from spikedyn.interop.neuron_mapping import check_dt, from_nir_neuron
from spikedyn.interop.nir_checks import check_edges, check_size, check_values
from spikedyn.interop.nir_errors import NIRImportError
from spikedyn.interop.nir_limits import NIRLimits
from spikedyn.interop.nir_reader import read_nir
from spikedyn.interop.nir_schema import LISTED, listing, unsupported_message
from spikedyn.layers import TimeDistributed

#: The float type of the imported modules (thresholds are exact for it).
DTYPE = np.float32

__all__ = ["NIRImportError", "NIRLimits", "from_nir"]


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
    threshold = dyn.v_threshold if isinstance(dyn.v_threshold, float) else _tensor(dyn.v_threshold)
    options = dict(v_threshold=threshold, v_reset=dyn.v_reset)
    if dyn.k is None:
        neuron = FixedIF(**options)
    else:
        k = torch.from_numpy(np.array(dyn.k, dtype=np.float64))
        k = k.reshape(()) if k.numel() == 1 else k
        if dyn.synaptic_decay is None:
            neuron = FixedLIF(k, decay_input=dyn.decay_input, **options)
        else:
            decay = torch.from_numpy(np.array(dyn.synaptic_decay, dtype=np.float64))
            neuron = FixedCubaLIF(k, decay, decay_input=dyn.decay_input, **options)
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
        nir.CubaLIF: lambda node, name: _neuron(node, name, dt),
    }


def _names(names: list[str]) -> str:
    """A short list of node names as Python writes it, or the first few and a count of the rest."""
    return repr(names) if len(names) <= LISTED else f"[{listing(names)}]"


def _inputs(graph: nir.NIRGraph) -> dict[str, list[str]]:
    """Each node's sources, in the order of the edges."""
    inputs: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for src, dst in graph.edges:
        inputs[dst].append(src)
    return inputs


def _order(graph: nir.NIRGraph, inputs: dict[str, list[str]]) -> list[str]:
    """The nodes in an order where each comes after its inputs, in time linear in the graph; a NIRImportError names a cycle's nodes."""
    waiting = {name: len(sources) for name, sources in inputs.items()}
    targets: dict[str, list[str]] = defaultdict(list)
    for src, dst in graph.edges:
        targets[src].append(dst)
    order = [name for name, count in waiting.items() if count == 0]
    for name in order:  # grows while it is walked
        for target in targets[name]:
            waiting[target] -= 1
            if waiting[target] == 0:
                order.append(target)
    if len(order) < len(waiting):
        cycle = sorted(set(waiting) - set(order))
        raise NIRImportError(f"the graph has recurrent edges among {_names(cycle)}: spikedyn runs "
                             "each layer over all T steps at once and cannot feed a step's output back")  # fmt: skip
    return order


def _single(graph: nir.NIRGraph, kind: type) -> str:
    names = [name for name, node in graph.nodes.items() if isinstance(node, kind)]
    if len(names) != 1:
        raise NIRImportError(f"spikedyn imports graphs with one {kind.__name__} node, this one has {len(names):,}: {_names(names)}")
    return names[0]


def from_nir(graph: nir.NIRGraph | str | os.PathLike[str], dt: float = 1e-4, limits: NIRLimits | None = None) -> GraphNetwork:
    """A spikedyn module [T, B, *input_shape] -> [T, B, *output_shape] running ``graph`` in steps of ``dt`` seconds.

    ``graph`` may also be the path of a .nir file, read within ``limits`` (default
    :class:`NIRLimits`). A :class:`NIRImportError` names every node of a type spikedyn has no
    layer for, and whatever a file or graph holds that is refused (a link out of the file, a
    size past a limit, a NaN); a ValueError names a neuron whose parameters do not fit.
    """
    dt = check_dt(dt)
    limits = NIRLimits() if limits is None else limits
    if not isinstance(limits, NIRLimits):
        raise TypeError(f"limits must be a NIRLimits, got {type(limits).__name__}")
    if isinstance(graph, nir.NIRGraph):
        return _network(graph, dt, limits)
    path = os.fspath(graph)
    read = read_nir(path, limits)
    try:
        return _network(read, dt, limits)
    except NIRImportError as error:
        raise NIRImportError(f"{path}: {error}") from None


def _network(graph: nir.NIRGraph, dt: float, limits: NIRLimits) -> GraphNetwork:
    """The module running ``graph``, once it passes the checks of :mod:`spikedyn.interop.nir_checks`."""
    check_size(graph, limits)
    makers = _layer_makers(dt)
    refused = [f"{name} ({type(node).__name__})" for name, node in graph.nodes.items()
               if not isinstance(node, (nir.Input, nir.Output)) and type(node) not in makers]  # fmt: skip
    if refused:
        raise NIRImportError(unsupported_message(refused))
    check_edges(graph)
    check_values(graph)
    connected = {src for src, _ in graph.edges} | {dst for _, dst in graph.edges}
    loose = [name for name in graph.nodes if name not in connected]
    if loose:
        raise NIRImportError(f"nodes {_names(loose)} are connected to nothing")
    source, sink = _single(graph, nir.Input), _single(graph, nir.Output)
    keys = {name: name.replace(".", "_") for name in graph.nodes}
    if len(set(keys.values())) != len(keys):
        raise NIRImportError("node names must stay distinct with '.' read as '_' (torch module names cannot hold dots)")
    sources = _inputs(graph)
    order = _order(graph, sources)
    layers = {keys[name]: makers[type(graph.nodes[name])](graph.nodes[name], name) for name in order if type(graph.nodes[name]) in makers}
    inputs = {keys[name]: [keys[src] for src in sources[name]] for name in graph.nodes}
    return GraphNetwork(layers, [keys[name] for name in order], inputs, keys[source], keys[sink])

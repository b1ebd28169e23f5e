"""``to_nir``: a trained network's inference graph as a NIR graph, exact or refused layer by layer.

Exported: IF, LIF and PLIF layers (tau per layer, channel or neuron, written per neuron; see
:mod:`spikedyn.interop.neuron_mapping`) and CubaLIF (NIR's CubaLIF), their thresholds fixed or
learned (per layer, channel or neuron, written per neuron); ALIF only approximately (NIR has no
adaptive threshold: ``approximate=True`` writes it as a LIF with its threshold theta); Conv2d,
Linear (NIR Affine, or Linear without a bias), batch norm and TEBN folded into the conv or
linear layer before them, average pooling, flatten, the voting layer (a NIR Linear with
weights 1/M) and spike max-pooling, which NIR lacks: on 0/1 spikes the maximum of a window is
1 exactly where its sum is >= 1, so it is written as SumPool2d followed by an IF node of
threshold 0.5 that resets to 0 every step it fires and otherwise stays at 0 (it only ever sees
whole numbers). Dropout is left out.
NIR shapes are those of one sample at one step (no batch or time dimension).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import nir
import numpy as np
import torch
from torch import nn

from spikedyn import __version__
from spikedyn.interop.approximations import Issue, settle
from spikedyn.interop.chain import Leaf, inference_chain
from spikedyn.interop.folding import batch_norm_scale_shift, fold_into
from spikedyn.interop.neuron_mapping import DiscreteNeuron, check_dt, to_nir_neuron
from spikedyn.layers import TemporalDropout, TemporalEffectiveBatchNorm2d, VotingLayer
from spikedyn.models import SpikingNetwork
from spikedyn.neurons import BaseNeuron
from spikedyn.neurons.parameters import broadcastable

#: Layers that do nothing at inference.
REMOVED = (TemporalDropout, nn.Dropout, nn.Identity)
#: The threshold node after sum pooling: spikes where a window's spike count is >= 1.
ANY_SPIKE = DiscreteNeuron(k=None, v_threshold=0.5, v_reset=0.0)
_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


@dataclass(frozen=True)
class Export:
    """A NIR graph and one line for each layer exported with an approximation (empty when exact)."""

    graph: nir.NIRGraph
    approximations: tuple[str, ...] = ()


def _pair(value: int | tuple[int, ...]) -> np.ndarray:
    return np.array(value if isinstance(value, tuple) else (value, value))


def _numpy(tensor: torch.Tensor | None) -> np.ndarray | None:
    return None if tensor is None else tensor.detach().cpu().numpy().copy()


@dataclass
class _GraphBuilder:
    """Turns the chain's leaves into NIR nodes, following the shape of one sample at one step."""

    dt: float
    dtype: np.dtype
    frame: torch.Tensor  # [1, *shape]: what flows into the next layer
    input_shape: tuple[int, ...] = ()
    nodes: list[tuple[str, nir.NIRNode]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    binary: bool = False  # whether the next layer's input is 0/1 spikes
    foldable: int | None = None  # index of the conv or linear node that a batch norm may fold into
    stopped: bool = False

    def add(self, leaf: Leaf) -> None:
        """Export one layer (or note why it cannot be)."""
        if self.stopped or isinstance(leaf.module, REMOVED):
            return
        for types, handler in self._handlers():
            if isinstance(leaf.module, types):
                handler(leaf)
                return
        self._refuse(leaf, "NIR has no node for this layer type (the export knows IF, LIF, PLIF, CubaLIF, ALIF (approximately), "
                           "Conv2d, Linear, batch norm, TEBN, average and max pooling, flatten, voting and dropout)")  # fmt: skip
        self.stopped = True  # the shape after it is unknown

    def _handlers(self) -> list[tuple[type | tuple[type, ...], Callable[[Leaf], None]]]:
        return [
            (BaseNeuron, self._neuron),
            (nn.Conv2d, self._conv),
            (nn.Linear, self._linear),
            (nn.modules.batchnorm._BatchNorm, self._batch_norm),
            (nn.Flatten, self._flatten),
            (nn.MaxPool2d, self._max_pool),
            (nn.AvgPool2d, self._avg_pool),
            (VotingLayer, self._voting),
        ]

    def _refuse(self, leaf: Leaf, problem: str, approximation: str | None = None) -> None:
        self.issues.append(Issue(leaf.name, type(leaf.module).__name__, problem, approximation))

    def _emit(self, leaf: Leaf, node: nir.NIRNode, suffix: str = "", foldable: bool = False, binary: bool = False) -> None:
        name = (leaf.name.replace(".", "_") or "layer") + suffix
        taken = {existing for existing, _ in self.nodes} | {"input", "output"}
        unique, count = name, 1
        while unique in taken:
            count += 1
            unique = f"{name}_{count}"
        self.nodes.append((unique, node))
        self.foldable = len(self.nodes) - 1 if foldable else None
        self.binary = binary

    def _shape(self) -> tuple[int, ...]:
        return tuple(self.frame.shape[1:])

    def _neuron(self, leaf: Leaf) -> None:
        module: BaseNeuron = leaf.module
        dyn, shape = module.dynamics, self._shape()
        q = module.quantities()
        if q.adaptation_strength is not None:
            self._refuse(leaf, "an adaptive threshold (A_t = theta + beta a_{t-1}): NIR has no adaptive-threshold neuron",
                         "a LIF with the fixed threshold theta; the adaptation (tau_a, beta) is dropped")  # fmt: skip
        if dyn.v_reset is None:
            self._refuse(leaf, "soft reset (V -= V_th at a spike): NIR's IF, LIF and CubaLIF reset to v_reset",
                         "a hard reset to 0, the potential its leak decays towards")  # fmt: skip
        if module.imp is not None:
            imp = module.imp.detach()
            self._refuse(leaf, f"a learned initial potential (IMP, per {module.imp_shape}): NIR has no initial-potential field",
                         f"a start at V_reset = {dyn.rest:g}; the learned V_-1 ({imp.min():.3g} to {imp.max():.3g}) is dropped")  # fmt: skip
        neuron = DiscreteNeuron(k=self._per_neuron(q.k), v_threshold=self._per_neuron(q.threshold), v_reset=dyn.rest,
                                decay_input=dyn.decay_input, synaptic_decay=self._per_neuron(q.synaptic_decay))  # fmt: skip
        self._emit(leaf, to_nir_neuron(neuron, shape, self.dt, self.dtype), binary=True)

    def _per_neuron(self, value: torch.Tensor | float | None) -> np.ndarray | float | None:
        """A neuron quantity (per layer, channel or neuron) as one number or as an array of the layer's shape, in the model's type."""
        if not isinstance(value, torch.Tensor):
            return value
        shape = self._shape()
        return broadcastable(value.detach(), shape).expand(shape).to(self.frame.dtype).cpu().numpy()

    def _conv(self, leaf: Leaf) -> None:
        conv: nn.Conv2d = leaf.module
        if conv.padding_mode != "zeros":
            self._refuse(leaf, f"padding_mode={conv.padding_mode!r}: NIR's Conv2d pads with zeros")
        weight = _numpy(conv.weight)
        bias = _numpy(conv.bias) if conv.bias is not None else np.zeros(weight.shape[0], dtype=weight.dtype)
        padding = conv.padding if isinstance(conv.padding, str) else tuple(conv.padding)
        node = nir.Conv2d(input_shape=self._shape()[1:], weight=weight, stride=tuple(conv.stride), padding=padding,
                          dilation=tuple(conv.dilation), groups=conv.groups, bias=bias)  # fmt: skip
        self.frame = self._run(leaf)
        self._emit(leaf, node, foldable=True)

    def _linear(self, leaf: Leaf) -> None:
        linear: nn.Linear = leaf.module
        if len(self._shape()) != 1:
            self._refuse(leaf, f"applied to a {list(self._shape())} input: NIR's Affine takes vectors (flatten first)")
        weight = _numpy(linear.weight)
        node = nir.Linear(weight=weight) if linear.bias is None else nir.Affine(weight=weight, bias=_numpy(linear.bias))
        self.frame = self._run(leaf)
        self._emit(leaf, node, foldable=True)

    def _batch_norm(self, leaf: Leaf) -> None:
        bn = leaf.module
        if not bn.track_running_stats or bn.running_mean is None:
            self._refuse(leaf, "no running statistics: it normalises each batch by its own, which NIR cannot")
            return
        extra = 1.0
        if isinstance(bn, TemporalEffectiveBatchNorm2d):
            steps = bn.time_scale.detach().double()
            extra = float(steps.mean())
            if not torch.all(steps == steps[0]):
                self._refuse(leaf, f"a scale p_t per time step ({steps.min():.4g} to {steps.max():.4g} over T={len(steps)}): "
                                   "a NIR layer is the same at every step", f"their mean {extra:.6g} at every step")  # fmt: skip
        if self.foldable is None:
            self._refuse(leaf, "nothing to fold it into: NIR has no batch norm, and the export folds it into a Conv2d or Linear directly before it")
            return
        name, node = self.nodes[self.foldable]
        scale, shift = batch_norm_scale_shift(bn, extra)
        weight, bias = fold_into(np.asarray(node.weight), None if isinstance(node, nir.Linear) else np.asarray(node.bias), scale, shift)
        if isinstance(node, nir.Conv2d):
            folded = nir.Conv2d(input_shape=tuple(node.input_type["input"][1:]), weight=weight, stride=node.stride,
                                padding=node.padding, dilation=node.dilation, groups=node.groups, bias=bias)  # fmt: skip
        else:
            folded = nir.Affine(weight=weight, bias=bias)
        self.nodes[self.foldable] = (name, folded)

    def _flatten(self, leaf: Leaf) -> None:
        flatten: nn.Flatten = leaf.module
        leading = 1 if leaf.per_step else 2
        dims = leading + len(self._shape())
        start, end = flatten.start_dim % dims, flatten.end_dim % dims
        if start < leading:
            self._refuse(leaf, f"start_dim={flatten.start_dim} flattens the batch or time dimension, which NIR shapes do not have")
            self.stopped = True
            return
        node = nir.Flatten(input_type={"input": np.array(self._shape())}, start_dim=start - leading, end_dim=end - leading)
        self.frame = self.frame.flatten(start - leading + 1, end - leading + 1)
        self._emit(leaf, node, binary=self.binary)

    def _max_pool(self, leaf: Leaf) -> None:
        pool: nn.MaxPool2d = leaf.module
        if _pair(pool.dilation).tolist() != [1, 1] or pool.ceil_mode or pool.return_indices:
            self._refuse(leaf, "dilation, ceil_mode or return_indices: NIR's SumPool2d has none of them")
        if not self.binary:
            self._refuse(leaf, "max-pooling of values that are not spikes: NIR has no max-pool node, and sum pooling "
                               "followed by a threshold equals it only on 0/1 spikes")  # fmt: skip
        kernel = _pair(pool.kernel_size)
        stride = kernel if pool.stride is None else _pair(pool.stride)
        self._emit(leaf, nir.SumPool2d(kernel_size=kernel, stride=stride, padding=_pair(pool.padding),
                                       metadata={"spikedyn": "max-pooling of spikes: sum pooling, then a spike where the sum >= 1"}))  # fmt: skip
        self.frame = self._run(leaf)
        threshold = to_nir_neuron(ANY_SPIKE, self._shape(), self.dt, self.dtype)
        threshold.metadata = {"spikedyn": f"the threshold of the max-pooling {leaf.name}: resets to 0 every step"}
        self._emit(leaf, threshold, suffix="_threshold", binary=True)

    def _avg_pool(self, leaf: Leaf) -> None:
        pool: nn.AvgPool2d = leaf.module
        padded = _pair(pool.padding).any()
        if pool.ceil_mode or pool.divisor_override is not None or (padded and not pool.count_include_pad):
            self._refuse(leaf, "ceil_mode, divisor_override or padding left out of the count: NIR's AvgPool2d has none of them")
        kernel = _pair(pool.kernel_size)
        stride = kernel if pool.stride is None else _pair(pool.stride)
        self._emit(leaf, nir.AvgPool2d(kernel_size=kernel, stride=stride, padding=_pair(pool.padding)))
        self.frame = self._run(leaf)

    def _voting(self, leaf: Leaf) -> None:
        group = leaf.module.group_size
        features = self._shape()[-1]
        if len(self._shape()) != 1 or features % group:
            self._refuse(leaf, f"needs a vector whose size is a multiple of {group}, got {list(self._shape())}")
            self.stopped = True
            return
        weight = np.kron(np.eye(features // group), np.full((1, group), 1.0 / group)).astype(self.dtype)
        self._emit(leaf, nir.Linear(weight=weight))
        self.frame = self.frame[:, : features // group]

    def _run(self, leaf: Leaf) -> torch.Tensor:
        """The frame after a stateless layer (conv, linear, pooling) that runs per step."""
        try:
            with torch.no_grad():
                if leaf.per_step:
                    return leaf.module(self.frame)
                return leaf.module(self.frame.unsqueeze(0)).squeeze(0)
        except RuntimeError as error:
            raise ValueError(f"{leaf.name} ({type(leaf.module).__name__}) cannot run on a per-step input of shape "
                             f"{list(self._shape())}: is the sample [T, B, *input_shape] as the model takes it? ({error})") from error  # fmt: skip

    def graph(self, metadata: dict[str, object]) -> nir.NIRGraph:
        """The chain as a NIR graph between an Input and an Output node."""
        nodes = {"input": nir.Input(input_type=np.array(self.input_shape)), **dict(self.nodes),
                 "output": nir.Output(output_type=np.array(self._shape()))}  # fmt: skip
        names = list(nodes)
        return nir.NIRGraph(nodes=nodes, edges=list(zip(names, names[1:])), metadata=metadata)


def _sample_frame(sample: torch.Tensor) -> torch.Tensor:
    if not isinstance(sample, torch.Tensor) or sample.dim() < 3 or sample.shape[0] < 1 or sample.shape[1] < 1:
        got = tuple(sample.shape) if isinstance(sample, torch.Tensor) else type(sample).__name__
        raise ValueError(f"sample must be an input tensor [T, B, *input_shape] as the model takes it, got {got}")
    if sample.dtype not in _DTYPES:
        raise ValueError(f"sample must be float32 or float64 (the type the exported thresholds are exact for), got {sample.dtype}")
    return sample[0, :1].detach().cpu()


def export_graph(model: nn.Module, sample: torch.Tensor, dt: float = 1e-4, *, approximate: bool = False) -> Export:
    """:func:`to_nir` with its report: the graph and one line per approximated layer."""
    dt = check_dt(dt)
    frame = _sample_frame(sample)
    if isinstance(model, SpikingNetwork):
        model.check_input(sample)
    builder = _GraphBuilder(dt, np.dtype(_DTYPES[frame.dtype]), frame, input_shape=tuple(frame.shape[1:]))
    for leaf in inference_chain(model):
        builder.add(leaf)
    report = settle(builder.issues, approximate)
    metadata: dict[str, object] = {"generator": f"spikedyn {__version__}", "dt": dt,
                                   "time_step": "one spikedyn step is one Euler step of dt (spikedyn.interop.neuron_mapping)"}  # fmt: skip
    if report:
        metadata["approximations"] = "\n".join(report)
    return Export(builder.graph(metadata), report)


def to_nir(model: nn.Module, sample: torch.Tensor, dt: float = 1e-4, *, approximate: bool = False) -> nir.NIRGraph:
    """The inference graph of ``model`` as NIR, one spikedyn step being one step of ``dt`` seconds.

    ``sample`` is an input [T, B, *input_shape] as the model takes it; only its shape and
    float type are read. What NIR cannot express raises a :class:`NIRExportError` naming every
    such layer, unless ``approximate=True``, which applies the approximations it names and
    reports each layer (an :class:`ApproximationWarning` and the graph's metadata).
    """
    return export_graph(model, sample, dt, approximate=approximate).graph

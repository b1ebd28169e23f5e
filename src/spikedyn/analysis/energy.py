"""Synaptic operations and theoretical energy per sample, as the IMP paper's Tables 5/6 report them.

The usual estimate for SNNs: the first synaptic layer gets real-valued input and costs
multiply-accumulates (MACs); every later one gets spikes (or spike counts, pooled spikes)
and costs one accumulate per nonzero input element and synapse it reaches (SOPs). Energy
E = E_AC x SOPs + E_MAC x MACs with the 45 nm figures of Horowitz, "Computing's energy
problem (and what we can do about it)", ISSCC 2014: a 32-bit float add 0.9 pJ, a
multiply 3.7 pJ, so a MAC 4.6 pJ. Biases, batch norm (folded into the weights at
inference), pooling and the neuron updates are not counted, as in the papers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from spikedyn.data import build_dataset
from spikedyn.models.encoded import EncodedNetwork
from spikedyn.training.protocols import dataset_options
from spikedyn.training.evaluate import load_network

#: Energy of one accumulate (an SOP) and of one multiply-accumulate, in joules (45 nm, Horowitz 2014).
E_AC = 0.9e-12
E_MAC = 4.6e-12
#: The layers whose operations are counted, wherever they sit (inside TimeDistributed, the static encoder, ...).
SYNAPTIC = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class LayerOperations:
    """One synaptic layer: its name in the network, "MAC" or "SOP", operations per sample, nonzero fraction of its input."""

    name: str
    kind: str
    ops: float
    input_rate: float


@dataclass(frozen=True)
class OperationCount:
    """Operations per sample (summed over the T steps, averaged over ``samples``) of each synaptic layer, in call order."""

    layers: tuple[LayerOperations, ...]
    samples: int

    @property
    def sops(self) -> float:
        """Synaptic operations (accumulates) per sample."""
        return sum(layer.ops for layer in self.layers if layer.kind == "SOP")

    @property
    def macs(self) -> float:
        """Multiply-accumulates per sample (the first layer's)."""
        return sum(layer.ops for layer in self.layers if layer.kind == "MAC")

    @property
    def energy_j(self) -> float:
        """E_AC x SOPs + E_MAC x MACs per sample, in joules."""
        return E_AC * self.sops + E_MAC * self.macs

    @property
    def energy_mj(self) -> float:
        """The energy per sample in millijoules, as the papers' tables give it."""
        return self.energy_j * 1e3


def fan_out(layer: nn.Module) -> float:
    """Synapses one input element reaches: out_features, or out_channels/groups x kernel size / stride product for a conv.

    For a conv this is the average over positions, ignoring the border (padding) effects,
    as is usual: with stride s an element is reached by k/s output positions per dimension.
    """
    if isinstance(layer, nn.Linear):
        return float(layer.out_features)
    kernel = torch.tensor(layer.kernel_size, dtype=torch.float64).prod().item()
    stride = torch.tensor(layer.stride, dtype=torch.float64).prod().item()
    return layer.out_channels / layer.groups * kernel / stride


def macs_of(layer: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """MACs of one call: rows x in_features x out_features (linear), output elements x in_channels/groups x kernel size (conv)."""
    if isinstance(layer, nn.Linear):
        return x.numel() / layer.in_features * layer.in_features * layer.out_features
    kernel = torch.tensor(layer.kernel_size, dtype=torch.float64).prod().item()
    return y.numel() * layer.in_channels / layer.groups * kernel


@dataclass
class _Tally:
    """Totals over every call of each synaptic layer of ``network`` (the first one called counts MACs, the rest SOPs)."""

    network: nn.Module
    spike_input: bool = False  # the input is encoded as spikes: the first layer accumulates too
    order: list[nn.Module] = field(default_factory=list)
    ops: dict[nn.Module, float] = field(default_factory=dict)
    nonzero: dict[nn.Module, int] = field(default_factory=dict)
    elements: dict[nn.Module, int] = field(default_factory=dict)
    samples: int = 0

    def hook(self, layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        x = inputs[0]
        if layer not in self.ops:
            self.order.append(layer)
            self.ops[layer], self.nonzero[layer], self.elements[layer] = 0.0, 0, 0
        nonzero = int(torch.count_nonzero(x))
        self.ops[layer] += macs_of(layer, x, output) if self._multiplies(layer) else nonzero * fan_out(layer)
        self.nonzero[layer] += nonzero
        self.elements[layer] += x.numel()

    def _multiplies(self, layer: nn.Module) -> bool:
        """Whether ``layer`` gets real-valued input: the first one called, unless the input was encoded as spikes."""
        return layer is self.order[0] and not self.spike_input

    @contextmanager
    def hooked(self) -> Iterator[None]:
        handles = [m.register_forward_hook(self.hook) for m in self.network.modules() if isinstance(m, SYNAPTIC)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def run(self, frames: torch.Tensor) -> None:
        """Run the network once on ``frames`` [T, B, ...] (no grad) and add its operations."""
        with self.hooked(), torch.no_grad():
            self.network(frames)
        self.samples += frames.shape[1]

    def result(self) -> OperationCount:
        if self.samples == 0:
            raise ValueError("no samples were run: nothing to count")
        names = {module: name for name, module in self.network.named_modules()}
        layers = tuple(
            LayerOperations(names[m], "MAC" if self._multiplies(m) else "SOP", self.ops[m] / self.samples, self.nonzero[m] / max(self.elements[m], 1))
            for m in self.order
        )
        return OperationCount(layers, self.samples)


def count_operations(network: nn.Module, frames: torch.Tensor) -> OperationCount:
    """Operations per sample of ``network`` on ``frames`` [T, B, C, H, W], from forward hooks on every Linear and Conv.

    The first synaptic layer called gets the raw input: MACs, counted as it runs (once per
    image behind the static encoder, T times otherwise). Every later one: SOPs = nonzero
    input elements x :func:`fan_out` (an element holding a count, e.g. 2 after a SEW ADD,
    or a pooled value counts once). A network whose later synaptic layers get real
    values (no neuron before them) would need MACs there too; spikedyn's do not.
    Runs in the network's current mode: call ``network.eval()`` first for inference.
    """
    tally = _Tally(network, spike_input=isinstance(network, EncodedNetwork))
    tally.run(frames)
    return tally.result()


def operations_of_checkpoint(checkpoint_path: str | os.PathLike[str], split: str = "test", samples: int = 64, batch_size: int | None = None) -> OperationCount:
    """Operations per sample of a checkpoint's network (eval mode) over the first ``samples`` samples of ``split`` of its dataset."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive int, got {samples!r}")
    network, config, _ = load_network(checkpoint_path)
    dataset = build_dataset(config.data.dataset, split, **dataset_options(config.data.options, config.protocol))
    subset = Subset(dataset, range(min(samples, len(dataset))))
    tally = _Tally(network, spike_input=isinstance(network, EncodedNetwork))
    for frames, _ in DataLoader(subset, batch_size=batch_size or config.data.eval_batch_size or config.data.batch_size):
        tally.run(frames.transpose(0, 1))
    return tally.result()


def format_operations(count: OperationCount) -> str:
    """A plain-text table: each layer's kind, input firing rate and operations per sample, then the totals and energy."""
    width = max([len("layer"), *(len(layer.name) for layer in count.layers)])
    lines = [f"{'layer':<{width}}  kind  input rate   ops/sample"]
    lines += [f"{layer.name:<{width}}  {layer.kind:<4}  {layer.input_rate:>10.4f}  {layer.ops:>11.4g}" for layer in count.layers]
    lines.append(f"per sample (mean of {count.samples}): {count.sops:.4g} SOPs, {count.macs:.4g} MACs")
    lines.append(f"energy: {E_AC * 1e12:g} pJ x SOPs + {E_MAC * 1e12:g} pJ x MACs = {count.energy_mj:.4g} mJ per sample")
    return "\n".join(lines)

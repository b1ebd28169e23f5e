"""What the records say about the spiking layers: firing rates, tau and IMP statistics."""

from __future__ import annotations

import torch
from torch import nn

from spikedyn.neurons import BaseNeuron


#: The history key prefix of each spiking layer's firing rate over the training batches of an epoch.
TRAIN_RATE = "train_rate/"


def silent_layers(history: list[dict[str, float]]) -> dict[str, int]:
    """{layer: first epoch in which it fired no spike over the whole training epoch}, from the records."""
    silent: dict[str, int] = {}
    for row in history:
        for key, rate in row.items():
            if key.startswith(TRAIN_RATE) and rate == 0.0:
                silent.setdefault(key[len(TRAIN_RATE) :], row["epoch"])
    return silent


def newly_silent(history: list[dict[str, float]]) -> list[str]:
    """The layers silent in the last epoch of ``history`` that were not silent in the epoch before."""
    last, before = history[-1], history[-2] if len(history) > 1 else {}
    return [key[len(TRAIN_RATE) :] for key, rate in last.items() if key.startswith(TRAIN_RATE) and rate == 0.0 and before.get(key) != 0.0]


def spiking_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The named spiking layers of ``model`` in order."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, BaseNeuron)]


class FiringRateMonitor(nn.Module):
    """Mean firing rate of each spiking layer over the batches seen while ``active``, over all processes.

    The hooks only add to two tensors, so torch.compile traces them into the network's graph.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        layers = spiking_layers(model)
        self.names = [name for name, _ in layers]
        self.register_buffer("spike_sums", torch.zeros(len(layers), dtype=torch.float64))
        self.register_buffer("counts", torch.zeros(len(layers), dtype=torch.float64))
        self.active = False
        for index, (_, layer) in enumerate(layers):
            layer.register_forward_hook(self._hook(index))

    def _hook(self, index: int):
        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if self.active:
                spikes = output[0] if isinstance(output, tuple) else output
                self.spike_sums[index] += spikes.detach().sum(dtype=torch.float64)
                self.counts[index] += spikes.numel()

        return record

    def compute_and_reset(self) -> dict[str, float]:
        """{layer name: spikes per neuron and step} of the batches seen, then forget them."""
        totals = torch.stack([self.spike_sums, self.counts])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(totals)
        rates = {name: float(spikes / count) if count else float("nan") for name, spikes, count in zip(self.names, *totals.tolist())}
        self.spike_sums.zero_()
        self.counts.zero_()
        return rates


def _summary(prefix: str, values: torch.Tensor) -> dict[str, float]:
    values = values.detach().double().flatten()
    std = float(values.std(unbiased=False)) if values.numel() > 1 else 0.0
    return {f"{prefix}/mean": float(values.mean()), f"{prefix}/std": std, f"{prefix}/min": float(values.min()), f"{prefix}/max": float(values.max())}


#: The learned quantities recorded per layer, as history and snapshot key prefixes ("tau/<layer>/mean", ...).
LEARNED_QUANTITIES = ("tau", "threshold", "adaptation_tau", "adaptation_strength", "synaptic_tau", "imp")


def learned_tensors(layer: BaseNeuron) -> dict[str, torch.Tensor]:
    """{quantity: detached tensor} of what ``layer`` learns: tau (PLIF), a learned threshold, ALIF's tau_a and beta,
    CubaLIF's tau_s, and the IMP."""
    tensors = dict(layer.learned())
    if layer.imp is not None:
        tensors["imp"] = layer.imp.detach()
    return tensors


def neuron_statistics(model: nn.Module) -> dict[str, float]:
    """Mean, std, min and max of every learned quantity (tau, threshold, tau_a, beta, tau_s, IMP), per layer."""
    stats: dict[str, float] = {}
    for name, layer in spiking_layers(model):
        for quantity, tensor in learned_tensors(layer).items():
            stats.update(_summary(f"{quantity}/{name}", tensor))
    return stats


def neuron_snapshot(model: nn.Module, weights: list[str]) -> dict[str, torch.Tensor]:
    """Full tensors for the records: every layer's learned quantities (tau, threshold, ..., IMP), and the named modules' weights."""
    tensors: dict[str, torch.Tensor] = {}
    for name, layer in spiking_layers(model):
        for quantity, tensor in learned_tensors(layer).items():
            tensors[f"{quantity}/{name}"] = tensor.cpu().clone()
    modules = dict(model.named_modules())
    for name in weights:
        if name not in modules or not isinstance(getattr(modules[name], "weight", None), torch.Tensor):
            known = [n for n, m in modules.items() if isinstance(getattr(m, "weight", None), torch.Tensor)]
            raise ValueError(f"records.weights names {name!r}, which is not a module with a weight; modules with weights: {known}")
        tensors[f"weight/{name}"] = modules[name].weight.detach().cpu().clone()
    return tensors

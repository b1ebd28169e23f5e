"""Figures that run a trained network again (accuracy at each time step, first-layer firing maps), and the helpers that rerun it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch.utils.data import DataLoader, Subset

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.run_records import RunRecords
from spikedyn.data import build_dataset
from spikedyn.data.base import DatasetInfo
from spikedyn.training.evaluate import load_network
from spikedyn.training.layer_stats import spiking_layers
from spikedyn.training.protocols import dataset_options
from spikedyn.training.config.schema import ExperimentConfig

CHECKPOINTS = ("best", "last")


def split_dataset(run: RunRecords, split: str, samples: int | None = None) -> torch.utils.data.Dataset:
    """The run's own dataset (its options and protocol) on ``split``; only its first ``samples`` when given."""
    data = run.config["data"]
    dataset = build_dataset(data["dataset"], split, **dataset_options(data["options"], run.config.get("protocol", "B")))
    return dataset if samples is None else Subset(dataset, range(min(samples, len(dataset))))


def trained_network(run: RunRecords, checkpoint: str) -> tuple[torch.nn.Module, ExperimentConfig, DatasetInfo]:
    """(network in eval mode, config, dataset info) of the run's best or last checkpoint."""
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {list(CHECKPOINTS)}, got {checkpoint!r}")
    return load_network(run.checkpoint_path(checkpoint))


def record_spikes(
    network: torch.nn.Module, frames: torch.Tensor, layers: Sequence[tuple[str, torch.nn.Module]]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(outputs [T, B, ...], {name: spikes [T, B, *shape]} of each of ``layers``) for frames [B, T, ...], without gradients."""
    captured: dict[str, torch.Tensor] = {}
    handles = [
        layer.register_forward_hook(lambda module, inputs, output, name=name: captured.__setitem__(name, output.detach()))
        for name, layer in layers
    ]
    try:
        with torch.no_grad():
            outputs = network(frames.transpose(0, 1))
    finally:
        for handle in handles:
            handle.remove()
    return outputs, captured


def step_accuracies(network: torch.nn.Module, dataset: torch.utils.data.Dataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy of y[t] alone, accuracy of the mean of y[0..t]) for every step t, over ``dataset``."""
    correct_step = correct_mean = None
    total = 0
    with torch.no_grad():
        for frames, labels in DataLoader(dataset, batch_size=batch_size):
            outputs = network(frames.transpose(0, 1))  # [T, B, classes]
            running = outputs.cumsum(0)
            step_hits = (outputs.argmax(-1) == labels).sum(1).numpy()
            mean_hits = (running.argmax(-1) == labels).sum(1).numpy()
            correct_step = step_hits if correct_step is None else correct_step + step_hits
            correct_mean = mean_hits if correct_mean is None else correct_mean + mean_hits
            total += len(labels)
    return correct_step / total, correct_mean / total


SPLIT = "the split the network runs on: train, val or test"
CHECKPOINT = "the run's checkpoint: best (the epoch its protocol reports) or last"


@register_figure(
    "timestep_accuracy", "IMP paper Fig. 4 (accuracy at each time step of a trained model)",
    options={"split": SPLIT, "checkpoint": CHECKPOINT, "samples": "the first samples of the split used; null: all"},
)  # fmt: skip
def timestep_accuracy(runs: list[RunRecords], split: str = "test", checkpoint: str = "best", samples: int | None = None) -> Figure:
    """Test accuracy of each step's output y[t] alone (solid) and of the mean up to t (dashed), per run."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    for index, run in enumerate(runs):
        network, _, _ = trained_network(run, checkpoint)
        by_step, by_mean = step_accuracies(network, split_dataset(run, split, samples))
        steps = np.arange(1, len(by_step) + 1)
        ax.plot(steps, 100 * by_step, "-o", color=f"C{index % 10}", label=f"{run.label}: y[t]")
        ax.plot(steps, 100 * by_mean, "--", color=f"C{index % 10}", label=f"{run.label}: mean of y[0..t]")
    ax.set(xlabel="time step t", ylabel=f"{split} accuracy (%)", title="accuracy at each time step")
    ax.legend(fontsize="small")
    return figure


def first_layer_rates(network: torch.nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """Firing rates [B, C, H, W] (mean over T) of the first spiking layer for frames [B, T, C, H, W]."""
    layers = spiking_layers(network)
    if not layers:
        raise ValueError("the network has no spiking layer")
    name, first = layers[0]
    _, spikes = record_spikes(network, frames, [(name, first)])
    return spikes[name].mean(0)


@register_figure(
    "channel_rates", "PLIF paper Figs. S2-S5 (first spiking layer's channel firing rates)", max_runs=1,
    options={"split": SPLIT, "samples": "samples shown, one column each",
             "channels": "[c, ...]: the channels shown; null: the three with the highest mean rate", "checkpoint": CHECKPOINT},
)  # fmt: skip
def channel_rates(runs: list[RunRecords], split: str = "test", samples: int = 8, channels: Sequence[int] | None = None, checkpoint: str = "best") -> Figure:
    """Inputs (mean over T) in the first row, then the firing rate maps of a few channels of the first spiking layer.

    By default the three channels with the highest mean rate over the shown samples.
    """
    run = runs[0]
    network, _, _ = trained_network(run, checkpoint)
    dataset = split_dataset(run, split, samples)
    frames, labels = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    rates = first_layer_rates(network, frames)
    if rates.dim() != 4:
        raise ValueError(f"the first spiking layer gives {tuple(rates.shape[1:])} per sample: firing maps need a convolutional layer")
    chosen = list(channels) if channels is not None else rates.mean(dim=(0, 2, 3)).argsort(descending=True)[:3].tolist()
    count = len(labels)
    figure = Figure(figsize=(1.6 * count, 1.7 * (1 + len(chosen))), layout="constrained")
    axes = figure.subplots(1 + len(chosen), count, squeeze=False)
    inputs = frames.mean(1).sum(1)  # mean over T, summed over channels (polarities)
    for column in range(count):
        axes[0, column].imshow(inputs[column].numpy(), cmap="gray")
        axes[0, column].set_title(f"label {int(labels[column])}", fontsize="small")
        for row, channel in enumerate(chosen, start=1):
            axes[row, column].imshow(rates[column, channel].numpy(), cmap="viridis", vmin=0, vmax=1)
            if column == 0:
                axes[row, column].set_ylabel(f"channel {channel}", fontsize="small")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(f"{run.label}: firing rates of the first spiking layer")
    return figure

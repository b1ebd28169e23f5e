"""The spike raster of one sample: when each of a fixed selection of neurons of every spiking layer fires."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.model_figures import CHECKPOINT, SPLIT, record_spikes, split_dataset, trained_network
from spikedyn.analysis.run_records import RunRecords
from spikedyn.training.factories import build_loss
from spikedyn.training.layer_stats import spiking_layers

PANEL_HEIGHT = 2.0  # inches per spiking layer
ROWS_HEIGHT = 1.5  # about the inches of a panel's axes, where the neurons' rows are
PANEL_WIDTH = 7.0


def shown_neurons(size: int, most: int) -> np.ndarray:
    """At most ``most`` evenly spaced indices into a flattened layer of ``size`` neurons, its first and last included."""
    if isinstance(most, bool) or not isinstance(most, int) or most < 1:
        raise ValueError(f"neurons must be a whole number of at least 1, got {most!r}")
    # spacing (size - 1) / (count - 1) >= 1, so the rounded indices are distinct
    return np.linspace(0, size - 1, min(size, most)).round().astype(np.int64)


def _sample(dataset: torch.utils.data.Dataset, split: str, sample: int) -> tuple[torch.Tensor, int]:
    """(frames [T, ...], label) of sample ``sample`` of the split; a ValueError naming the split's size when out of range."""
    if isinstance(sample, bool) or not isinstance(sample, int):
        raise ValueError(f"sample must be a whole number (an index into the {split} split), got {sample!r}")
    size = len(dataset)
    if not 0 <= sample < size:
        valid = f"0 to {size - 1}" if size else "none: the split is empty"
        raise ValueError(f"sample {sample!r} is out of range: the {split} split has {size:,} samples (valid indices: {valid})")
    frames, label = dataset[sample]
    return frames, int(label)


def _panel_title(name: str, spikes: torch.Tensor, rows: torch.Tensor) -> str:
    """Layer name, neurons shown of how many, and the layer's firing rate (or that it is silent)."""
    shown = f"{name}: {rows.shape[1]:,} of {spikes.shape[1]:,} neurons"
    if not spikes.any():
        return f"{shown}, silent"
    rated = f"{shown}, rate {float(spikes.float().mean()):.3g}"
    return rated if rows.any() else f"{rated} (none of those shown fired)"


def _draw_layer(ax: Axes, name: str, spikes: torch.Tensor, most: int) -> None:
    """One panel of one layer's spikes [T, N]: a dash at (step, neuron index) for each spike of the selected neurons."""
    neurons = shown_neurons(spikes.shape[1], most)
    rows = spikes[:, torch.from_numpy(neurons)]
    fired = [neurons[torch.nonzero(rows[step]).flatten().numpy()] for step in range(rows.shape[0])]
    spacing = (neurons[-1] - neurons[0]) / (len(neurons) - 1) if len(neurons) > 1 else 1.0
    # a dash 0.8 of a step wide and about one row of the panel high
    thickness = min(4.0, 0.9 * 72 * ROWS_HEIGHT / len(neurons))
    ax.eventplot(fired, orientation="vertical", lineoffsets=np.arange(len(fired)), linelengths=0.8, linewidths=thickness, colors="black")
    ax.set(xlim=(-0.5, rows.shape[0] - 0.5), ylim=(neurons[0] - spacing / 2, neurons[-1] + spacing / 2), ylabel="neuron")
    ax.set_title(_panel_title(name, spikes, rows), fontsize="medium")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _class_name(classes: tuple[str, ...], index: int) -> str:
    """A class by index, and by name when its name is not just the index (``3 (cat)``)."""
    return f"{index} ({classes[index]})" if index < len(classes) and classes[index] != str(index) else str(index)


@register_figure(
    "raster", "PLIF paper Fig. S1-style spike raster; the IMP paper's spike patterns", max_runs=1,
    options={"sample": "index of the sample in the split", "split": SPLIT, "checkpoint": CHECKPOINT,
             "neurons": "most neurons drawn per layer: that many evenly spaced indices of the flattened layer"},
)  # fmt: skip
def raster(runs: list[RunRecords], sample: int = 0, split: str = "test", checkpoint: str = "best", neurons: int = 64) -> Figure:
    """Spikes of one sample, one panel per spiking layer in network order: x the time step, y a fixed selection of its neurons."""
    run = runs[0]
    shown_neurons(1, neurons)  # a bad count fails before the network runs
    network, config, info = trained_network(run, checkpoint)
    layers = spiking_layers(network)
    if not layers:
        raise ValueError(f"the network of {run.path} has no spiking layer to draw")
    frames, label = _sample(split_dataset(run, split), split, sample)
    outputs, spikes = record_spikes(network, frames.unsqueeze(0), layers)
    predicted = int(build_loss(config).predict(outputs)[0])
    figure = Figure(figsize=(PANEL_WIDTH, 0.6 + PANEL_HEIGHT * len(layers)), layout="constrained")
    axes = figure.subplots(len(layers), 1, squeeze=False, sharex=True)[:, 0]
    for ax, (name, _) in zip(axes, layers):
        layer = spikes[name][:, 0]
        _draw_layer(ax, name, layer.reshape(layer.shape[0], -1), neurons)
    axes[-1].set_xlabel("time step")
    classes = tuple(info.classes)
    figure.suptitle(f"{run.label}\n{split} sample {sample}: label {_class_name(classes, label)}, predicted {_class_name(classes, predicted)}")
    return figure

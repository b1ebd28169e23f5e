"""Per-epoch curves from the records: accuracies, training loss, firing rates per layer."""

from __future__ import annotations

from matplotlib.figure import Figure

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.smoothing import clamped_window, moving_average

SPLITS = ("train", "val", "test")


def smoothing_note(window: int, epochs: int) -> str:
    """What the solid curves are, for a figure's title; a window longer than the longest run is clamped to it, and it says so."""
    used = clamped_window(window, epochs)
    if epochs and used < window:
        return f"solid: moving average over all {used} epoch{'s' * (used != 1)}\n(the {window}-epoch window is longer than the run)"
    return f"solid: {window}-epoch moving average"


@register_figure(
    "accuracy", "PLIF paper Fig. 6; per-neuron study Fig. 1 (64-epoch moving average)",
    options={"window": "epochs in the trailing moving average (the seeds' 64); a longer window than the run is clamped to it, "
                       "and the figure's title says so",
             "splits": "the splits drawn, one panel each: a list of train, val, test"},
)  # fmt: skip
def accuracy_curves(runs: list[RunRecords], window: int = 64, splits: tuple[str, ...] = SPLITS) -> Figure:
    """Train, validation and test accuracy per epoch: the raw curve faint, its moving average solid, one colour per run.

    Each panel is titled by its split alone and the moving average is named once, above them all,
    so that titles stay short enough not to run into the neighbouring panels.
    """
    figure = Figure(figsize=(4.2 * len(splits), 3.4), layout="constrained")
    axes = figure.subplots(1, len(splits), squeeze=False)[0]
    longest = 0
    for ax, split in zip(axes, splits):
        drawn = 0
        for index, run in enumerate(runs):
            epochs, values = run.column(f"{split}_acc")
            if not epochs:
                continue
            colour = f"C{index % 10}"
            percent = [100 * v for v in values]
            ax.plot(epochs, percent, color=colour, alpha=0.3, linewidth=0.8)
            ax.plot(epochs, moving_average(percent, window), color=colour, label=run.label)
            drawn, longest = drawn + 1, max(longest, len(epochs))
        ax.set(title=f"{split} accuracy", xlabel="epoch", ylabel="accuracy (%)")
        if drawn:
            ax.legend(fontsize="small")
    figure.suptitle(smoothing_note(window, longest), fontsize="medium")
    if not any(run.column(f"{split}_acc")[0] for run in runs for split in splits):
        runs[0].require([], "accuracy per epoch", "train for at least one epoch")
    return figure


@register_figure("convergence", "IMP paper Figs. 5, 7, 8 (training loss of SDT, TET, LTS)", options={"log_scale": "draw the loss on a log scale"})
def convergence(runs: list[RunRecords], log_scale: bool = False) -> Figure:
    """Training loss against epoch for several runs on one axis, to compare how fast losses converge."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    for index, run in enumerate(runs):
        epochs, losses = run.column("train_loss")
        run.require(epochs, "training loss per epoch", "train for at least one epoch")
        loss_name = run.config.get("loss", {}).get("name", "?")
        ax.plot(epochs, losses, color=f"C{index % 10}", label=f"{run.label} [{loss_name}]")
    ax.set(xlabel="epoch", ylabel="training loss", title="convergence")
    if log_scale:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return figure


@register_figure("firing_rates", "PLIF paper Figs. S2-S5 (firing rates), per layer over training")
def firing_rates(runs: list[RunRecords]) -> Figure:
    """Mean firing rate of every spiking layer per epoch (on the validation split), one panel per run."""
    figure = Figure(figsize=(6, 3.4 * len(runs)), layout="constrained")
    axes = figure.subplots(len(runs), 1, squeeze=False)[:, 0]
    for ax, run in zip(axes, runs):
        keys = run.keys("rate/")
        run.require(keys, "firing rates", "set records.firing_rates: true")
        for index, key in enumerate(keys):
            epochs, rates = run.column(key)
            ax.plot(epochs, rates, color=f"C{index % 10}", label=key[len("rate/") :])
        ax.set(title=run.label, xlabel="epoch", ylabel="spikes per neuron per step")
        ax.legend(fontsize="small", ncol=2)
    return figure

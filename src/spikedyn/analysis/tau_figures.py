"""How the learned membrane time constants evolve: per layer over epochs, final distributions, W/tau."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.run_records import MissingRecords, RunRecords

NO_TAU = "its neurons learn no tau: train with model.neuron.kind: plif"
#: What records each learned quantity other than tau, for the error a figure of it gives.
RECORDED_BY = {
    "tau": NO_TAU,
    "threshold": "its neurons learn no threshold: train with model.neuron.threshold: layer, channel or neuron",
    "adaptation_tau": "its neurons do not adapt: train with model.neuron.kind: alif",
    "adaptation_strength": "its neurons do not adapt: train with model.neuron.kind: alif",
    "synaptic_tau": "its neurons have no synaptic current: train with model.neuron.kind: cubalif",
    "imp": "its neurons learn no initial potential: train with model.neuron.imp: neuron or channel",
}
SYMBOLS = {"tau": "tau", "threshold": "theta", "adaptation_tau": "tau_a", "adaptation_strength": "beta", "synaptic_tau": "tau_s", "imp": "V_-1"}


def _layers(run: RunRecords, quantity: str) -> list[str]:
    layers = [key[len(quantity) + 1 : -len("/mean")] for key in run.keys(f"{quantity}/", "/mean")]
    run.require(layers, f"{quantity} records", RECORDED_BY[quantity])
    return layers


def quantity_over_epochs(runs: list[RunRecords], quantity: str) -> Figure:
    """A learned quantity of every layer per epoch: the value when there is one per layer, the mean with a min-max band otherwise."""
    if quantity not in RECORDED_BY:
        raise ValueError(f"quantity {quantity!r} is not recorded; the learned quantities: {', '.join(RECORDED_BY)}")
    symbol = SYMBOLS[quantity]
    layers = list(dict.fromkeys(layer for run in runs for layer in _layers(run, quantity)))
    columns = min(3, len(layers))
    rows = math.ceil(len(layers) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for position, (ax, layer) in enumerate(zip(axes, layers)):
        for index, run in enumerate(runs):
            epochs, means = run.column(f"{quantity}/{layer}/mean")
            if not epochs:
                continue
            colour = f"C{index % 10}"
            ax.plot(epochs, means, color=colour, label=run.label)
            _, low = run.column(f"{quantity}/{layer}/min")
            _, high = run.column(f"{quantity}/{layer}/max")
            if len(low) == len(high) == len(epochs) and any(h > lo for h, lo in zip(high, low)):
                ax.fill_between(epochs, low, high, color=colour, alpha=0.2)
        ax.set(title=f"{symbol}({position + 1}): {layer}", xlabel="epoch", ylabel=symbol)
        if position == 0:
            ax.legend(fontsize="small")
    for ax in axes[len(layers) :]:
        ax.set_visible(False)
    return figure


@register_figure("tau", "PLIF paper Fig. 7; per-neuron study Fig. 2 (tau per layer over training)")
def tau_over_epochs(runs: list[RunRecords]) -> Figure:
    """tau of every PLIF layer per epoch: the value for per-layer tau, the mean with a min-max band otherwise."""
    return quantity_over_epochs(runs, "tau")


@register_figure(
    "learned", "the learned dynamics beyond tau (threshold, ALIF's tau_a and beta, CubaLIF's tau_s, IMP) per layer over training",
    options={"quantity": f"the learned quantity drawn: one of {', '.join(RECORDED_BY)}"},
)  # fmt: skip
def learned_over_epochs(runs: list[RunRecords], quantity: str = "threshold") -> Figure:
    """A learned quantity of every layer per epoch, as the tau figure draws tau."""
    return quantity_over_epochs(runs, quantity)


@register_figure("tau_violin", "per-neuron study Fig. 2 (final per-neuron tau of each layer)", max_runs=1)
def tau_violin(runs: list[RunRecords]) -> Figure:
    """The distribution of each layer's tau values in the run's last snapshot, with its extremes."""
    run = runs[0]
    snapshot = run.snapshot(-1)
    taus = {key[len("tau/") :]: value.flatten().double().numpy() for key, value in snapshot["tensors"].items() if key.startswith("tau/")}
    if not taus:
        raise MissingRecords(f"run {run.path} has no tau in its snapshots; {NO_TAU}")
    figure = Figure(figsize=(max(5, 1.3 * len(taus)), 4), layout="constrained")
    ax = figure.subplots()
    names = list(taus)
    spread = [i for i, name in enumerate(names) if taus[name].size > 1 and np.ptp(taus[name]) > 0]
    if spread:
        ax.violinplot([taus[names[i]] for i in spread], positions=[i + 1 for i in spread], showextrema=True, showmedians=True)
    for i, name in enumerate(names):
        if i not in spread:
            ax.plot([i + 1], [taus[name][0]], "o", color="C0")
    ax.set_xticks(range(1, len(names) + 1), [f"tau({i + 1})\n{name}" for i, name in enumerate(names)], fontsize="small")
    ax.set(ylabel="tau", title=f"{run.label}: tau per layer at epoch {snapshot['epoch']}")
    return figure


def _path_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in name.split(".")]


def following_layer(weight_module: str, tau_layers: list[str]) -> str:
    """The PLIF layer right after ``weight_module`` in the same parent container (by module path)."""
    module_path = _path_key(weight_module)
    best = None
    for layer in tau_layers:
        path = _path_key(layer)
        depth = 0
        while depth < min(len(path), len(module_path)) and path[depth] == module_path[depth]:
            depth += 1
        if depth == len(path) or depth == len(module_path):
            continue
        a, b = module_path[depth], path[depth]
        if isinstance(a, int) and isinstance(b, int) and b > a and (best is None or (depth, -b) > (best[0], -best[1])):
            best = (depth, b, layer)
    if best is None:
        raise ValueError(f"cannot tell which PLIF layer follows {weight_module!r} among {tau_layers}; pass layer=...")
    return best[2]


@register_figure(
    "wfc_tau", "PLIF paper Fig. S1 (W_fc / tau of the PLIF layer after the first FC)", max_runs=1,
    options={"weight": "the snapshotted weight (records.weights) divided by tau; null: the first one",
             "layer": "the PLIF layer whose tau divides it; null: the spiking layer after the weight",
             "epochs_shown": "snapshots drawn as histograms, spread over training"},
)  # fmt: skip
def weight_over_tau(runs: list[RunRecords], weight: str | None = None, layer: str | None = None, epochs_shown: int = 6) -> Figure:
    """The distribution of W_fc / tau over training, from snapshots holding the FC weight and the next layer's tau.

    With 1/tau -> 0 the PLIF neuron after the FC layer integrates W_fc / tau * I_t: this shows that
    ratio converging while tau itself may drift (the paper's explanation of tau -> infinity).
    """
    run = runs[0]
    snapshots = [run.snapshot(i) for i in range(len(run.snapshot_files))] if run.snapshot_files else [run.snapshot()]
    weights = [key[len("weight/") :] for key in snapshots[-1]["tensors"] if key.startswith("weight/")]
    if not weights:
        raise MissingRecords(f"run {run.path} snapshots no weights; set records.weights: [<first FC module>], e.g. [classifier.2.layer]")
    weight = weight or weights[0]
    tau_layers = [key[len("tau/") :] for key in snapshots[-1]["tensors"] if key.startswith("tau/")]
    if not tau_layers:
        raise MissingRecords(f"run {run.path} snapshots no tau; {NO_TAU}")
    layer = layer or following_layer(weight, tau_layers)
    ratios, epochs = [], []
    for snapshot in snapshots:
        tensors = snapshot["tensors"]
        if f"weight/{weight}" not in tensors or f"tau/{layer}" not in tensors:
            continue
        w, tau = tensors[f"weight/{weight}"].double(), tensors[f"tau/{layer}"].double()
        ratio = w / (tau.reshape(-1, *([1] * (w.dim() - 1))) if tau.dim() else tau)
        ratios.append(ratio.flatten().numpy())
        epochs.append(snapshot["epoch"])
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    shown = sorted(set(np.linspace(0, len(ratios) - 1, min(epochs_shown, len(ratios))).round().astype(int)))
    for i in shown:
        left.hist(ratios[i], bins=80, histtype="step", density=True, label=f"epoch {epochs[i]}")
    left.set(title=f"{weight} / tau({layer})", xlabel="W / tau", ylabel="density")
    left.legend(fontsize="small")
    right.plot(epochs, [r.mean() for r in ratios], label="mean")
    right.plot(epochs, [r.std() for r in ratios], label="std")
    right.set(title="W / tau over training", xlabel="epoch")
    right.legend(fontsize="small")
    return figure


"""The IMP paper's neuron-model figures: potentials and spikes under IMP (Fig. 1), pattern mappings (Fig. 3).

Both are computed with spikedyn's own IF/LIF modules (their ``imp`` parameter is V_{-1}),
so they show what the library computes, not a re-implementation; the mappings themselves
are computed in :mod:`spikedyn.analysis.pattern_mapping`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.pattern_mapping import PATTERN_STEPS, PATTERNS, SETTINGS, V_TH, mapping_setting, panel_mappings, pattern_label
from spikedyn.analysis.run_records import RunRecords
from spikedyn.neurons import IF, LIF, BaseNeuron


def _pair(name: str, value: Sequence[float]) -> tuple[float, float]:
    """A (low, high) option as two finite floats (the CLI gives lists)."""
    low, high = (float(v) for v in value)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} must be two finite numbers, got {value!r}")
    return low, high


def _neuron(kind: str, shape: tuple[int, ...], reset: str, tau: float = 2.0, imp: str | None = None) -> BaseNeuron:
    """A spikedyn IF or LIF layer (V_th = 1, soft or hard reset) in float64, with an IMP per ``imp`` ("neuron", "channel") or none."""
    if reset not in ("soft", "hard"):
        raise ValueError(f"reset must be 'soft' or 'hard', got {reset!r}")
    options = {"shape": shape, "v_threshold": V_TH, "v_reset": None if reset == "soft" else 0.0, "imp": imp}
    if kind == "if":
        return IF(**options).double()
    if kind == "lif":
        return LIF(tau=float(tau), **options).double()
    raise ValueError(f"kind must be 'if' or 'lif', got {kind!r}")


def population_response(inputs: np.ndarray, imps: np.ndarray | None, T: int, kind: str = "if", reset: str = "soft", tau: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(charged potentials H [N, T], spikes [N, T]) of N neurons each fed a constant input, starting from V_{-1} = imps (None: 0)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    neuron = _neuron(kind, (len(inputs),), reset, tau, imp=None if imps is None else "neuron")
    with torch.no_grad():
        if imps is not None:
            neuron.imp.copy_(torch.as_tensor(np.asarray(imps, dtype=np.float64)))
        x = torch.as_tensor(inputs).expand(T, 1, len(inputs))  # [T, B=1, N]
        spikes, potentials = neuron(x, return_v=True)
    return potentials[:, 0].T.numpy(), spikes[:, 0].T.numpy()


@register_figure(
    "imp_dynamics", "IMP paper Fig. 1 (potentials and spikes when the IMP or the input intensity varies)", needs_runs=False,
    options={"T": "time steps", "neurons": "neurons per heatmap",
             "input_level": "the constant input of every neuron of the left pair, whose IMP varies",
             "imp_range": "[low, high] of the IMP V_{-1} across the neurons of the left pair",
             "input_range": "[low, high] of the constant input across the neurons of the right pair (IMP 0)",
             "kind": "if or lif", "reset": "soft (subtract the threshold) or hard (to 0)", "tau": "the LIF neuron's tau (kind=lif)"},
)  # fmt: skip
def imp_dynamics(
    runs: list[RunRecords],
    T: int = 8,
    neurons: int = 32,
    input_level: float = 0.3,
    imp_range: Sequence[float] = (-1.0, 1.0),
    input_range: Sequence[float] = (0.0, 1.0),
    kind: str = "if",
    reset: str = "soft",
    tau: float = 2.0,
) -> Figure:
    """Heatmaps (neurons x time) of the charged potential H_t and the spikes of a spikedyn IF (or LIF) population.

    Left pair: every neuron gets the same constant input ``input_level``; only the IMP
    (V_{-1}) varies, linearly over ``imp_range`` across the neurons. Right pair (the
    control): IMP 0 for all; the constant input varies linearly over ``input_range``.
    Soft reset by default, as in the IMP paper's equations. ``runs`` is unused.
    Axes: four heatmaps and a colour bar beside each potential map.
    """
    T, neurons = int(T), int(neurons)
    if T < 1 or neurons < 1:
        raise ValueError(f"T and neurons must be positive, got T={T}, neurons={neurons}")
    imps = np.linspace(*_pair("imp_range", imp_range), neurons)
    inputs = np.linspace(*_pair("input_range", input_range), neurons)
    left = population_response(np.full(neurons, float(input_level)), imps, T, kind, reset, tau)
    right = population_response(inputs, None, T, kind, reset, tau)
    figure = Figure(figsize=(14, 0.12 * neurons + 2.2), layout="constrained")
    axes = figure.subplots(1, 4)
    extent = (-0.5, T - 0.5, -0.5, neurons - 0.5)
    panels = (
        (left, imps, "IMP V$_{-1}$", f"input {float(input_level):g}, IMP varied"),
        (right, inputs, "input", "IMP 0, input varied"),
    )
    for index, ((potential, spikes), varied, label, title) in enumerate(panels):
        ax_v, ax_s = axes[2 * index], axes[2 * index + 1]
        image = ax_v.imshow(potential, aspect="auto", origin="lower", cmap="coolwarm", extent=extent)
        figure.colorbar(image, ax=ax_v, label="H$_t$")
        ax_s.imshow(spikes, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1, extent=extent)
        ax_v.set_title(f"potential: {title}", fontsize="medium")
        ax_s.set_title(f"spikes (yellow): {title}", fontsize="medium")
        ticks = np.unique(np.linspace(0, neurons - 1, min(neurons, 5)).round().astype(int))
        for ax in (ax_v, ax_s):
            ax.set_xlabel("time step t")
            ax.set_yticks(ticks, [f"{varied[i]:.2f}" for i in ticks])
            ax.set_ylabel(f"neuron ({label})")
    figure.suptitle(f"{kind.upper()} neurons, V$_{{th}}$ = {V_TH:g}, {reset} reset, T = {T}")
    return figure


@register_figure(
    "pattern_mapping", "IMP paper Fig. 3 (input-to-output spike pattern mappings of an IF neuron over 4 steps)", needs_runs=False,
    options={"setting": "paper (the authors' ranges: w in [0, 1], IMP 0, 0.25 and [-1, 1]) or wide (w in [-6, 6])",
             "imp": "the fixed IMP of the middle panel; null: the setting's",
             "imp_range": "[low, high] of the learnable panel's IMP grid; null: the setting's",
             "imp_steps": "points of that IMP grid; null: the setting's",
             "weight_range": "[low, high] of the input weight w swept; null: the setting's",
             "weight_steps": "points of the weight sweep; null: the setting's"},
)  # fmt: skip
def pattern_mapping(
    runs: list[RunRecords],
    setting: str = "paper",
    imp: float | None = None,
    imp_range: Sequence[float] | None = None,
    imp_steps: int | None = None,
    weight_range: Sequence[float] | None = None,
    weight_steps: int | None = None,
) -> Figure:
    """Which output pattern each of the 16 input patterns can produce over 4 steps: IMP 0, IMP ``imp``, learnable IMP.

    White cell (input on x, output on y): some weight w of the sweep (and, in the learnable
    panel, some IMP of its grid) maps that input to that output. ``setting`` names the
    sweep, "paper" (the authors' ranges: w in [0, 1], IMP 0, 0.25 and [-1, 1]) or "wide"
    (w in [-6, 6]); the other options replace its fields (None keeps them). The defaults'
    grids find every mapping of their ranges: see :mod:`spikedyn.analysis.pattern_mapping`.
    ``runs`` is unused.
    """
    ranges = {name: _pair(name, value) for name, value in (("imp_range", imp_range), ("weight_range", weight_range)) if value is not None}
    steps = {name: int(value) for name, value in (("imp_steps", imp_steps), ("weight_steps", weight_steps)) if value is not None}
    sweep = mapping_setting(setting, imp=None if imp is None else float(imp), **ranges, **steps)
    figure = Figure(figsize=(15, 5.6), layout="constrained")
    labels = [pattern_label(i) for i in range(PATTERNS)]
    for ax, (title, reach) in zip(figure.subplots(1, 3), panel_mappings(sweep)):
        ax.imshow(reach.T, origin="lower", cmap="gray", vmin=0, vmax=1)
        ax.set_xticks(range(PATTERNS), labels, rotation=90, fontsize="x-small", family="monospace")
        ax.set_yticks(range(PATTERNS), labels, fontsize="x-small", family="monospace")
        ax.set(xlabel="input pattern (t = 0..3)", ylabel="output pattern (t = 0..3)", title=f"{title}: {int(reach.sum())} mappings")
    name = setting if sweep == SETTINGS[setting] else f"{setting}, modified"
    figure.suptitle(
        f"IF neuron, T = {PATTERN_STEPS}, V$_{{th}}$ = {V_TH:g}, soft reset, input w x$_t$; {name} setting: "
        f"w in [{sweep.weight_range[0]:g}, {sweep.weight_range[1]:g}] ({sweep.weight_steps} points), "
        f"IMP 0, {sweep.imp:g} and [{sweep.imp_range[0]:g}, {sweep.imp_range[1]:g}] ({sweep.imp_steps} points)"
    )
    return figure

"""The IMP paper's neuron-model figures: potentials and spikes under IMP (Fig. 1), pattern mappings (Fig. 3).

Both are computed with spikedyn's own IF/LIF modules (their ``imp`` parameter is V_{-1}),
so they show what the library computes, not a re-implementation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.run_records import RunRecords
from spikedyn.neurons import IF, LIF, BaseNeuron

V_TH = 1.0
#: Pattern mapping: 4 steps, so 2**4 = 16 binary spike patterns in and out.
PATTERN_STEPS = 4
PATTERNS = 2**PATTERN_STEPS
#: Largest (IMP chunk x weights) block simulated at once by :func:`pattern_mappings`.
_BLOCK = 2**18


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


@register_figure("imp_dynamics", "IMP paper Fig. 1 (potentials and spikes when the IMP or the input intensity varies)", needs_runs=False)
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


def spike_patterns() -> torch.Tensor:
    """All binary patterns over :data:`PATTERN_STEPS` steps as [T, 16] float64; pattern p spikes at t when bit T-1-t of p is set."""
    return torch.tensor([[(p >> (PATTERN_STEPS - 1 - t)) & 1 for p in range(PATTERNS)] for t in range(PATTERN_STEPS)], dtype=torch.float64)


def pattern_label(index: int) -> str:
    """Pattern ``index`` as its spikes in time order, e.g. 8 -> '1000' (a spike at t = 0 only)."""
    return format(index, f"0{PATTERN_STEPS}b")


def pattern_mappings(imp_values: Sequence[float] | np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """reach[i, o] (bool, 16 x 16): input pattern i makes a spikedyn IF neuron emit output pattern o for some IMP and weight.

    The neuron: V_th = 1, soft reset (``v_reset=None``: V_t = H_t - S_t, the IMP paper's
    s[t+1] = h[t] - o[t]), H_t = V_{t-1} + w x_t with x the binary input pattern, V_{-1} =
    IMP; it fires when H_t >= V_th (the paper writes >; see :func:`pattern_mapping` for why
    that changes nothing below V_th). Every pair (IMP in ``imp_values``, w in ``weights``)
    is simulated over 4 steps in float64 and the reachable (input, output) pairs are
    collected.
    """
    imps = torch.as_tensor(np.asarray(imp_values, dtype=np.float64).ravel())
    w = torch.as_tensor(np.asarray(weights, dtype=np.float64).ravel())
    if imps.numel() == 0 or w.numel() == 0 or not (torch.isfinite(imps).all() and torch.isfinite(w).all()):
        raise ValueError("pattern_mappings needs at least one finite IMP value and one finite weight")
    patterns = spike_patterns()
    place = 2.0 ** torch.arange(PATTERN_STEPS - 1, -1, -1, dtype=torch.float64)  # t = 0 is the leading bit
    reach = torch.zeros(PATTERNS, PATTERNS, dtype=torch.bool)
    for chunk in imps.split(max(1, _BLOCK // w.numel())):
        neuron = _neuron("if", (chunk.numel(), w.numel()), "soft", imp="channel")  # one IMP per row of weights
        with torch.no_grad():
            neuron.imp.copy_(chunk)
            x = (patterns[:, :, None, None] * w).expand(PATTERN_STEPS, PATTERNS, chunk.numel(), w.numel())
            spikes = neuron(x)  # [T, 16 inputs, IMPs, weights]
        codes = torch.tensordot(place, spikes, dims=1).long().reshape(PATTERNS, -1)
        reach.scatter_(1, codes, True)
    return reach.numpy()


@register_figure("pattern_mapping", "IMP paper Fig. 3 (input-to-output spike pattern mappings of an IF neuron over 4 steps)", needs_runs=False)
def pattern_mapping(
    runs: list[RunRecords],
    imp: float = 0.25,
    imp_range: Sequence[float] = (-1.0, 1.0),
    imp_steps: int = 49,
    weight_range: Sequence[float] = (-6.0, 6.0),
    weight_steps: int = 24001,
) -> Figure:
    """Which output pattern each of the 16 input patterns can produce over 4 steps: IMP 0, IMP ``imp``, learnable IMP.

    White cell (input on x, output on y): some weight w in ``linspace(*weight_range,
    weight_steps)`` (and, in the learnable panel, some IMP in ``linspace(*imp_range,
    imp_steps)``) maps that input to that output; see :func:`pattern_mappings`.

    Why the grids give the exact answer over all real w (and all IMP in the range):
    with the IMP fixed, H_t = IMP + w c_t - n_t, where c_t in 0..4 counts the input spikes
    up to t and n_t in 0..3 the output spikes before t. The output can only change where
    some H_t crosses V_th = 1, i.e. at the breakpoints w = (1 + n - IMP) / c, c in 1..4,
    n in 0..3, all in [0, 4 - IMP] (within [0, 5] for IMP in [-1, 1]). Since c_t >= 0 the
    potentials never fall as w grows, so at a breakpoint the neuron (firing at H >= V_th)
    does what it does just above it (with the paper's H > V_th, just below: same set). So
    the reachable set is the union over the open intervals between breakpoints, below 0
    and above the largest. For IMP = k/q the breakpoints are fractions m/(qc), so
    distinct ones differ by at least 1/(12q) (c, c' <= 4); a weight grid spanning [-6, 6] with step
    below 1/(12q) puts points in every interval (the defaults: step 0.0005 against
    1/12 for IMP 0, 1/48 for 0.25, 1/288 for the IMP grid, whose points are multiples of
    1/24). Over IMP: the order of the breakpoints changes only where two coincide,
    IMP = (c(1+n') - c'(1+n)) / (c - c'), a multiple of 1/6, or on the line IMP = 1 + n;
    between consecutive such values the reachable set is constant, and at them it equals
    the set just above (potentials rise with IMP too). The default IMP grid (step 1/24,
    ends included) has points inside every interval between multiples of 1/6, so it is
    exact over [-1, 1]. Note that IMP = 1 = V_th fires at t = 0 without input (spikedyn
    fires at H >= V_th): 26 of the learnable panel's 129 mappings need IMP >= V_th
    (IMP in [-1, 1) gives 103). The tests check the defaults against an exact rational
    enumeration. ``runs`` is unused.
    """
    weights = np.linspace(*_pair("weight_range", weight_range), int(weight_steps))
    panels = (
        ("IMP = 0", pattern_mappings([0.0], weights)),
        (f"IMP = {float(imp):g}", pattern_mappings([float(imp)], weights)),
        ("learnable IMP in [{:g}, {:g}]".format(*_pair("imp_range", imp_range)), pattern_mappings(np.linspace(*_pair("imp_range", imp_range), int(imp_steps)), weights)),
    )
    figure = Figure(figsize=(15, 5.4), layout="constrained")
    axes = figure.subplots(1, 3)
    labels = [pattern_label(i) for i in range(PATTERNS)]
    for ax, (title, reach) in zip(axes, panels):
        ax.imshow(reach.T, origin="lower", cmap="gray", vmin=0, vmax=1)
        ax.set_xticks(range(PATTERNS), labels, rotation=90, fontsize="x-small", family="monospace")
        ax.set_yticks(range(PATTERNS), labels, fontsize="x-small", family="monospace")
        ax.set(xlabel="input pattern (t = 0..3)", ylabel="output pattern (t = 0..3)", title=f"{title}: {int(reach.sum())} mappings")
    figure.suptitle(f"IF neuron over {PATTERN_STEPS} steps, V$_{{th}}$ = {V_TH:g}, soft reset, input w x$_t$, w in [{weights[0]:g}, {weights[-1]:g}]")
    return figure

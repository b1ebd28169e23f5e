"""Neuron speed with and without IMP (IMP paper Fig. 6), from the neuron benchmark's JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from matplotlib.figure import Figure

import spikedyn
from spikedyn.analysis.figure_registry import register_figure
from spikedyn.analysis.run_records import MissingRecords, RunRecords


def default_results() -> Path:
    """benchmarks/results/neuron.json of the checkout spikedyn is installed from (editable), whatever the current folder."""
    return Path(spikedyn.__file__).resolve().parents[2] / "benchmarks" / "results" / "neuron.json"  # src/spikedyn/__init__.py


@register_figure(
    "speed", "IMP paper Fig. 6 (speed with and without IMP across neuron counts and T)", needs_runs=False,
    options={"results": "the neuron benchmark's JSON; null: benchmarks/results/neuron.json of the spikedyn checkout",
             "backend": "the measured backend whose rows are drawn, e.g. fused or reference",
             "mode": "the benchmark's measuring mode: best-default, best-tuned or user-first"},
)  # fmt: skip
def imp_speed(runs: list[RunRecords], results: str | os.PathLike[str] | None = None, backend: str = "fused", mode: str = "best-default") -> Figure:
    """Forward+backward time of each spikedyn neuron with and without IMP against B*N, one panel per T.

    ``mode`` is the benchmark's measuring mode (best-default, best-tuned, user-first); rows of
    older results without one are best-case rows named by their allocator.
    """
    path = default_results() if results is None else Path(results)
    if not path.is_file():
        where = "" if results is None else " (--set results)"
        raise MissingRecords(f"no neuron benchmark results at {path}{where}: run `python benchmarks/neuron.py` in the spikedyn "
                             "checkout, or name the results file with --set results=PATH")  # fmt: skip
    rows = [r for r in json.loads(path.read_text())["results"]
            if r.get("backend") == backend and r.get("mode", f"best-{r.get('allocator')}") == mode
            and str(r.get("contender", "")).startswith("spikedyn") and "median_s" in r]  # fmt: skip
    if not rows:
        raise MissingRecords(f"{path} holds no spikedyn measurements for backend={backend!r}, mode={mode!r}")
    steps = sorted({r["T"] for r in rows})
    figure = Figure(figsize=(5 * len(steps), 3.8), layout="constrained")
    axes = figure.subplots(1, len(steps), squeeze=False)[0]
    for ax, t in zip(axes, steps):
        names = sorted({r["contender"] for r in rows if r["T"] == t})
        for index, name in enumerate(n for n in names if not n.endswith("+IMP")):
            for suffix, style in (("", "-o"), ("+IMP", "--s")):
                points = sorted((r["BN"], r["median_s"] * 1e3) for r in rows if r["T"] == t and r["contender"] == name + suffix)
                if points:
                    ax.plot(*zip(*points), style, color=f"C{index}", label=f"{name[len('spikedyn ') :]}{suffix}")
        ax.set(xscale="log", yscale="log", xlabel="B x N (neurons in the batch)", ylabel="forward+backward (ms)", title=f"T = {t} [{backend}]")
        ax.legend(fontsize="small")
    return figure

"""A study's figures: history curves averaged over seeds per configuration, and each metric's means with their intervals."""

from __future__ import annotations

import fnmatch
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from spikedyn.analysis.run_records import RunRecords  # noqa: E402
from spikedyn.analysis.tables import flatten  # noqa: E402
from spikedyn.studies.study import Curves  # noqa: E402


def row_value(row: Mapping[str, Any], column: str) -> float | None:
    """A history row's ``column``; a pattern with ``*`` (``tau/*/std``) gives the mean of the matching columns."""
    keys = fnmatch.filter(row, column) if "*" in column else [column] if column in row else []
    values = [float(row[key]) for key in keys if isinstance(row[key], (int, float)) and row[key] == row[key]]
    return statistics.fmean(values) if values else None


def _label(config: Mapping[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{key.split('.')[-1]}={config.get(key)}" for key in keys) or "all runs"


def curves_figure(runs: Sequence[RunRecords], curves: Curves) -> Figure:
    """One panel per value of ``curves.panels``, one line per configuration: the mean over seeds, with the min-max band."""
    groups: dict[str, dict[str, list[RunRecords]]] = {}
    for run in runs:
        config = flatten(run.config)
        groups.setdefault(_label(config, curves.panels), {}).setdefault(_label(config, curves.lines), []).append(run)
    columns = min(3, len(groups)) or 1
    rows = (len(groups) + columns - 1) // columns or 1
    figure = Figure(figsize=(4.5 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, (panel, lines) in zip(axes, sorted(groups.items()), strict=False):
        for line, members in sorted(lines.items()):
            by_epoch: dict[int, list[float]] = {}
            for run in members:
                for record in run.history:
                    value = row_value(record, curves.column)
                    if value is not None and "epoch" in record:
                        by_epoch.setdefault(int(record["epoch"]), []).append(value)
            epochs = sorted(by_epoch)
            if not epochs:
                continue
            means = [statistics.fmean(by_epoch[e]) for e in epochs]
            axis.plot([e + 1 for e in epochs], means, label=f"{line} (n={len(members)})")
            axis.fill_between([e + 1 for e in epochs], [min(by_epoch[e]) for e in epochs], [max(by_epoch[e]) for e in epochs], alpha=0.2)
        axis.set(title=panel, xlabel="epochs trained", ylabel=curves.ylabel)
        axis.legend(fontsize=7)
    for axis in axes[len(groups) :]:
        axis.set_visible(False)
    return figure


def means_figure(rows: Sequence[Mapping[str, Any]], metrics: Mapping[str, str], labels: Sequence[str]) -> Figure:
    """One panel per metric ({metric: unit}): each configuration's mean with its 95% confidence interval."""
    figure = Figure(figsize=(4.2 * len(metrics), 0.35 * len(rows) + 1.4), layout="constrained")
    axes = figure.subplots(1, len(metrics), squeeze=False, sharey=True).ravel()
    positions = list(range(len(rows)))[::-1]
    for axis, (metric, unit) in zip(axes, metrics.items(), strict=True):
        scale = 100.0 if unit == "%" else 1.0
        for y, row in zip(positions, rows, strict=True):
            mean, low, high = row[f"{metric}_mean"], row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
            if mean is None:
                continue
            error = [[scale * (mean - low)], [scale * (high - mean)]] if low is not None else None
            axis.errorbar([scale * mean], [y], xerr=error, fmt="o", color="C0", capsize=3)
        axis.set(xlabel=f"{metric} ({unit})", yticks=positions)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticklabels(labels, fontsize=7)
    figure.suptitle("mean over seeds with its 95% confidence interval", fontsize=9)
    return figure

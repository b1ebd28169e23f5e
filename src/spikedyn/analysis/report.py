"""A run's HTML report in one file: summary, config, last metrics and the run's figures, embedded.

The run's own figures come first (accuracy, tau, firing rates, then the others in the order they
are registered); the figures not drawn from the run (the neuron-model illustrations imp_dynamics
and pattern_mapping, the benchmark's speed) only with ``illustrations=True``, after them.
"""

from __future__ import annotations

import base64
import datetime
import html
import os
from pathlib import Path
from typing import Any

import yaml

from spikedyn.analysis import figure_registry
from spikedyn.analysis import figures as _registered  # noqa: F401  (registers every figure)
from spikedyn.analysis.run_records import MissingRecords, RunRecords, load_run
from spikedyn.analysis.save import figure_bytes
from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.protocols import accuracy_lines
from spikedyn.training.runs.listing import run_status

STYLE = (
    "body{font:14px/1.45 sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    "th{background:#f2f2f2}pre{background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}"
    "figure{margin:1.5em 0}figcaption{color:#555}.missing li{margin:.3em 0}"
)
Cells = list[tuple[str, str]]
FIRST = ("accuracy", "tau", "firing_rates")  # what a reader of a run looks for first


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _table(rows: list[list[str]], header: list[str] | None = None) -> str:
    """An HTML table of text cells, escaped."""
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _summary_cells(run: RunRecords) -> Cells:
    """Status, the accuracy its protocol reports, split sizes, epochs, wall time."""
    s = run.summary
    wall = s.get("wall_time_s")
    cells = [("status", run_status(s) if s else "no summary.json")]
    if s.get("error"):
        cells.append(("error", str(s["error"])))
    cells += accuracy_lines(s)
    if s.get("split_sizes"):
        cells.append(("samples", ", ".join(f"{split} {count}" for split, count in s["split_sizes"].items())))
    cells += [
        ("epochs completed", f"{s.get('epochs_completed', 0)} of {s.get('max_epochs', '?')}"),
        ("wall time", f"{wall:.1f} s" if isinstance(wall, (int, float)) else "-"),
        ("seed", str(run.config.get("seed", "-"))),
        ("run folder", str(run.path)),
    ]
    if run.config.get("description"):
        cells.append(("description", str(run.config["description"])))
    return cells


def _tau_rows(run: RunRecords) -> list[list[str]]:
    """Learned tau per layer at the last epoch: mean, std, min, max (the summary's means without history)."""
    last = run.history[-1] if run.history else {}
    layers = [key[len("tau/") : -len("/mean")] for key in last if key.startswith("tau/") and key.endswith("/mean")]
    if layers:
        return [[layer, *(_number(last.get(f"tau/{layer}/{stat}")) for stat in ("mean", "std", "min", "max"))] for layer in layers]
    return [[layer, _number(value), "-", "-", "-"] for layer, value in (run.summary.get("tau") or {}).items()]


def _metric_rows(run: RunRecords) -> list[list[str]]:
    """The last epoch's metrics except tau and IMP statistics."""
    last = run.history[-1] if run.history else {}
    return [[key, _number(value)] for key, value in last.items() if not key.startswith(("tau/", "imp/"))]


def report_figures(illustrations: bool = False) -> list[figure_registry.FigureSpec]:
    """The figures of a report in their order: the run's own (those of :data:`FIRST` first), then, if asked, the others."""
    specs = [spec for spec in figure_registry.FIGURES.values() if not spec.needs_runs or spec.max_runs is None or spec.max_runs >= 1]
    own = sorted((spec for spec in specs if spec.needs_runs), key=lambda spec: FIRST.index(spec.name) if spec.name in FIRST else len(FIRST))
    return own + ([spec for spec in specs if not spec.needs_runs] if illustrations else [])


def draw_figures(run: RunRecords, illustrations: bool = False, dpi: int = 100) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """([(name, redraws, base64 PNG)], [(name, why not drawn)]) for the figures of :func:`report_figures`, in its order."""
    import matplotlib.pyplot as plt

    drawn, skipped = [], []
    for spec in report_figures(illustrations):
        name = spec.name
        try:
            figure = figure_registry.draw_figure(name, [run] if spec.needs_runs else [])
            try:
                png = figure_bytes(figure, "png", dpi=dpi)
            finally:
                plt.close(figure)
        except (MissingRecords, FileNotFoundError) as error:
            skipped.append((name, str(error)))
        except Exception as error:  # noqa: BLE001 - one broken figure must not stop the report
            skipped.append((name, f"error: {type(error).__name__}: {error}"))
        else:
            drawn.append((name, spec.redraws, base64.b64encode(png).decode("ascii")))
    return drawn, skipped


def render_report(run: RunRecords, illustrations: bool = False, dpi: int = 100) -> str:
    """The report of ``run`` as one HTML page referencing no external resource."""
    e = html.escape
    drawn, skipped = draw_figures(run, illustrations, dpi)
    config = yaml.safe_dump(run.config, sort_keys=False, default_flow_style=False, allow_unicode=True)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(run.name)}: spikedyn run report</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(run.name)}</h1>",
        "<h2>Summary</h2>",
        _table([list(cell) for cell in _summary_cells(run)]),
    ]
    tau = _tau_rows(run)
    if tau:
        parts += ["<h3>Learned tau per layer (last epoch)</h3>", _table(tau, ["layer", "mean", "std", "min", "max"])]
    metrics = _metric_rows(run)
    parts += ["<h2>Last epoch</h2>", _table(metrics, ["metric", "value"]) if metrics else "<p>No epoch recorded.</p>"]
    parts.append("<h2>Figures</h2>")
    for name, redraws, png in drawn:
        caption = f"{name}: redraws {redraws}" if redraws else name
        parts.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{png}"><figcaption>{e(caption)}</figcaption></figure>')
    if not drawn:
        parts.append("<p>No figure drawn.</p>")
    left_out = [spec.name for spec in figure_registry.FIGURES.values() if not spec.needs_runs]
    if left_out and not illustrations:
        parts.append(f"<p>Not drawn from the run, so left out: {e(', '.join(left_out))} (<code>spikedyn report RUN --illustrations</code>).</p>")
    if skipped:
        items = "".join(f"<li><b>{e(name)}</b>: {e(message)}</li>" for name, message in skipped)
        parts.append(f'<h2>Figures not drawn</h2><ul class="missing">{items}</ul>')
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    parts += ["<h2>Config</h2>", f"<pre>{e(config)}</pre>", f"<p><small>written {e(stamp)}</small></p>", "</body></html>"]
    return "\n".join(parts) + "\n"


def write_report(run_path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, illustrations: bool = False, dpi: int = 100) -> Path:
    """Write the self-contained HTML report of a run (default ``<run>/report.html``) atomically; returns its path."""
    run = load_run(run_path)
    target = Path(out) if out is not None else run.path / "report.html"
    return write_bytes_atomically(target, render_report(run, illustrations, dpi).encode("utf-8"), durable=False)

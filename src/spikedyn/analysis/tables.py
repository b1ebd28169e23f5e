"""A results table across runs: one row per configuration, accuracies over seeds (mean, std, 95% CI), grouped by protocol.

Each row's reported accuracy is its protocol's: A, the maximum test accuracy; B, the test
accuracy at the best validation epoch (with the best validation accuracy, and the run's maximum
test accuracy for information, which is not protocol A). Any other function of a run can be
summarized the same way (``collect_rows(runs, {"name": metric})``).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spikedyn.analysis.run_records import RunRecords, load_run
from spikedyn.analysis.statistics import CONFIDENCE, summarize
from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.protocols import RULES, max_test_info, reported
from spikedyn.training.runs.resume import SETTINGS_KEYS
from spikedyn.training.runs.listing import run_status

IGNORED_KEYS = ("seed", "output_dir", "description", "sources")  # runs differing only in these are one configuration
#: Settings that change how a run is shown or where it ran, not what it learns.
IGNORED_SETTINGS = (*SETTINGS_KEYS, "trainer.accelerator")

#: A per-run quantity summarized over seeds: a number, or None where the run has none.
RunMetric = Callable[[RunRecords], float | None]


def reported_accuracy(run: RunRecords) -> float | None:
    """The test accuracy the run's protocol reports (A: maximum; B: at the best validation epoch)."""
    return reported(run.summary)[1].get("test_acc")


def best_val_accuracy(run: RunRecords) -> float | None:
    """A B run's best validation accuracy (None for A, which has no validation split)."""
    return reported(run.summary)[1].get("val_acc")


def max_test_accuracy_info(run: RunRecords) -> float | None:
    """A B run's maximum test accuracy, for information only (None for an A run)."""
    return max_test_info(run.summary).get("test_acc")


METRICS: dict[str, RunMetric] = {"accuracy": reported_accuracy, "best_val": best_val_accuracy, "max_test": max_test_accuracy_info}
TITLES = {"accuracy": "reported (%)", "best_val": "best val (%)", "max_test": "max test (%, info)"}
STATS = ("mean", "std", "ci_low", "ci_high", "n")  # each metric's columns, as f"{metric}_{stat}"
CSV_COLUMNS = ["protocol", "name", "variant", "n", "seeds", "epochs"] + [f"{prefix}_{stat}" for prefix in METRICS for stat in STATS] + ["note", "runs"]


def _runs_in(path: Path) -> list[Path]:
    """``path`` when it is a run folder, else the run folders below it."""
    if path.is_file():
        return [path.parent] if path.name == "config.yaml" else []
    if (path / "config.yaml").is_file():
        return [path]
    return sorted(config.parent for config in path.rglob("config.yaml")) if path.is_dir() else []


def expand_runs(patterns: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Run folders of glob patterns or folders (a folder of runs gives its runs); a pattern matching no run is an error."""
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    found: dict[Path, None] = {}
    for pattern in patterns:
        text = os.path.expanduser(os.fspath(pattern))
        matches = [Path(text)] if Path(text).exists() else sorted(Path(p) for p in glob.glob(text, recursive=True))
        runs = [run for match in matches for run in _runs_in(match)]
        if not runs:
            what = f"{len(matches)} path(s) match but none is a run folder or holds one" if matches else "nothing matches it"
            raise FileNotFoundError(f"no run folder matches {os.fspath(pattern)!r}: {what}")
        found.update(dict.fromkeys(runs))
    return list(found)


def load_runs(runs: Iterable[RunRecords | str | os.PathLike[str]]) -> list[RunRecords]:
    """Runs as records, reading the folders among them (already read runs are kept as they are)."""
    return [run if isinstance(run, RunRecords) else load_run(run) for run in runs]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as {"dotted.key": value}."""
    if not isinstance(data, Mapping):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def configuration(config: Mapping[str, Any]) -> dict[str, Any]:
    """A run's configuration as dotted keys: its config without seed, output folder, description and display settings."""
    return {k: v for k, v in flatten(config).items() if k.split(".")[0] not in IGNORED_KEYS and k not in IGNORED_SETTINGS}


def describe(settings: Mapping[str, Any]) -> str:
    """Settings as "key=value, ..." (values as JSON), for labels."""
    return ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in settings.items())


def _variants(configs: list[dict[str, Any]]) -> list[str]:
    """For configurations sharing a name, what sets each apart ("optimizer.lr=0.01"); "" for a unique name."""
    flats = [configuration(c) for c in configs]
    variants = []
    for i, flat in enumerate(flats):
        others = [f for j, f in enumerate(flats) if j != i and configs[j]["name"] == configs[i]["name"]]
        # the protocol is not a variant: each protocol has a table of its own
        keys = [k for k in flat if k != "protocol" and any(o.get(k, object()) != flat[k] for o in others)]
        variants.append(describe({k: flat[k] for k in keys}))
    return variants


def metric_value(run: RunRecords, metric: RunMetric) -> float | None:
    """``metric`` of the run as a float; None where it has none (None, NaN or not a number)."""
    value = metric(run)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value) else None


def run_protocol(run: RunRecords) -> str:
    """The run's protocol: its summary's, else its config's, else B (runs from before protocols were named)."""
    return run.summary.get("protocol") or run.config.get("protocol") or "B"


def _notes(run: RunRecords) -> list[str]:
    """Why a run's accuracies are missing, and a status other than completed."""
    if not run.summary:
        return ["no summary.json"]
    notes = []
    status = run_status(run.summary)
    if status != "completed":
        notes.append(f"status {status}")
    if run_protocol(run) == "B" and metric_value(run, best_val_accuracy) is None:
        notes.append("no validation accuracy recorded")
    if not run.config.get("data", {}).get("test", True):
        notes.append("no test split (data.test=false)")
    elif metric_value(run, reported_accuracy) is None:
        notes.append("no test accuracy recorded")
    return notes


def collect_rows(
    runs: Iterable[RunRecords | str | os.PathLike[str]], metrics: Mapping[str, RunMetric] = METRICS, fractions: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """One row per configuration (runs equal but for seed, output_dir, description), grouped by protocol, first-seen order within.

    Each metric ``m`` gives the row ``m_mean``, ``m_std``, ``m_ci_low``, ``m_ci_high`` and ``m_n``
    (runs with a value); ``config`` is the configuration as dotted keys, for ``select``. The
    intervals of the metrics named in ``fractions`` (default: every metric of :data:`METRICS`,
    all accuracies) are clipped to [0, 1].
    """
    fractions = set(METRICS) if fractions is None else set(fractions)
    groups: dict[str, list[RunRecords]] = {}
    for run in load_runs(runs):
        groups.setdefault(json.dumps(configuration(run.config), sort_keys=True, default=str), []).append(run)
    variants = _variants([runs[0].config for runs in groups.values()])
    rows = []
    for runs, variant in zip(groups.values(), variants, strict=True):
        row: dict[str, Any] = {
            "protocol": run_protocol(runs[0]), "name": runs[0].name, "variant": variant, "n": len(runs),
            "seeds": [run.config["seed"] for run in runs], "epochs": [run.summary.get("epochs_completed") for run in runs],
        }  # fmt: skip
        for prefix, metric in metrics.items():
            bounds = (0.0, 1.0) if prefix in fractions else None
            summary = summarize([v for v in (metric_value(run, metric) for run in runs) if v is not None], bounds=bounds)
            row.update({f"{prefix}_{stat}": getattr(summary, stat) for stat in STATS})
        notes = [f"{run.path.name}: {note}" if len(runs) > 1 else note for run in runs for note in _notes(run)]
        row["note"] = "; ".join(notes)
        row["runs"] = [str(run.path) for run in runs]
        row["config"] = configuration(runs[0].config)
        rows.append(row)
    return sorted(rows, key=lambda row: row["protocol"])


def _epochs(epochs: Sequence[int | None]) -> str | None:
    """The runs' completed epochs as "10" or "8-10"; None when no run says."""
    known = [e for e in epochs if isinstance(e, int)]
    if not known:
        return None
    return str(known[0]) if min(known) == max(known) else f"{min(known)}-{max(known)}"


def percent_or_dash(value: float | None) -> str:
    """A fraction in % with two decimals ("-" for None), as table cells show it."""
    return "-" if value is None else f"{100 * value:.2f}"


def _cell(row: dict[str, Any], prefix: str) -> str:
    """ "mean ± std [ci_low, ci_high] (n=k)" in %, "-" for what is undefined."""
    if row[f"{prefix}_mean"] is None:
        return "-"
    low, high = row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"]
    interval = "-" if low is None else f"{percent_or_dash(low)}, {percent_or_dash(high)}"
    return f"{percent_or_dash(row[f'{prefix}_mean'])} ± {percent_or_dash(row[f'{prefix}_std'])} [{interval}] (n={row[f'{prefix}_n']})"


def markdown_row(cells: Iterable[str]) -> str:
    """One Markdown table line, escaping what would break it."""
    return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"


def markdown_header(titles: Sequence[str]) -> list[str]:
    """A Markdown table's title line and rule."""
    return [markdown_row(titles), "|" + "|".join(["---"] * len(titles)) + "|"]


LEGEND = f"Accuracies in %: mean ± sample std [{CONFIDENCE:.0%} confidence interval of the mean, t distribution] (n runs with a value)."


def format_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one Markdown table per protocol, each headed by what its protocol reports; accuracies in %."""
    sections = [LEGEND + "\n"]
    for protocol in sorted({row["protocol"] for row in rows}):
        metrics = [prefix for prefix in METRICS if protocol == "B" or prefix == "accuracy"]
        titles = ["name", "n", "seeds", "epochs", *(TITLES[prefix] for prefix in metrics), "note"]
        lines = [f"Protocol {protocol}: {RULES.get(protocol, 'unknown protocol')}.", "", *markdown_header(titles)]
        for row in (r for r in rows if r["protocol"] == protocol):
            name = f"{row['name']} [{row['variant']}]" if row["variant"] else row["name"]
            cells = [name, str(row["n"]), ", ".join(map(str, row["seeds"])), _epochs(row["epochs"]) or "-"]
            lines.append(markdown_row(cells + [_cell(row, prefix) for prefix in metrics] + [row["note"] or ""]))
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def write_records_csv(records: Iterable[Mapping[str, Any]], columns: Sequence[str], path: str | os.PathLike[str]) -> Path:
    """Records as CSV with the given columns (None empty, lists ";"-joined), written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for record in records:
        values = {k: record.get(k) for k in columns}
        writer.writerow({k: "" if v is None else ";".join(map(str, v)) if isinstance(v, list) else v for k, v in values.items()})
    return write_bytes_atomically(path, buffer.getvalue().encode("utf-8"), durable=False)


def write_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """The rows as CSV (accuracies as fractions, empty where missing; lists ";"-joined), written atomically."""
    return write_records_csv([{**row, "epochs": _epochs(row["epochs"])} for row in rows], CSV_COLUMNS, path)

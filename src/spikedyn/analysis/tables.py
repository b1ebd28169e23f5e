"""A results table across runs: one row per configuration, accuracies as mean ± std over seeds, grouped by protocol.

Each row's reported accuracy is its protocol's: A, the maximum test accuracy; B, the test
accuracy at the best validation epoch (with the best validation accuracy, and the run's maximum
test accuracy for information, which is not protocol A).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spikedyn.analysis.run_records import RunRecords, load_run
from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.protocols import RULES, max_test_info, reported
from spikedyn.training.runs import run_status

IGNORED_KEYS = ("seed", "output_dir", "description", "sources")  # runs differing only in these are one configuration
#: Settings that change how a run is shown or where it ran, not what it learns.
IGNORED_SETTINGS = ("trainer.progress_bar", "records.tensorboard", "data.num_workers", "trainer.accelerator")
METRICS = {  # row prefix: (column title, the value read from a run's summary)
    "accuracy": ("reported (%)", lambda summary: reported(summary)[1].get("test_acc")),
    "best_val": ("best val (%)", lambda summary: reported(summary)[1].get("val_acc")),
    "max_test": ("max test (%, info)", lambda summary: max_test_info(summary).get("test_acc")),
}
CSV_COLUMNS = ["protocol", "name", "variant", "n", "seeds", "epochs"] + [
    f"{prefix}_{stat}" for prefix in METRICS for stat in ("mean", "std", "n")
] + ["note", "runs"]


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


def _config_key(config: dict[str, Any]) -> str:
    """The configuration a run belongs to: its config without seed, output folder, description and display settings."""
    flat = {k: v for k, v in _flatten(config).items() if k.split(".")[0] not in IGNORED_KEYS and k not in IGNORED_SETTINGS}
    return json.dumps(flat, sort_keys=True, default=str)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as {"dotted.key": value}."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _variants(configs: list[dict[str, Any]]) -> list[str]:
    """For configurations sharing a name, what sets each apart ("optimizer.lr=0.01"); "" for a unique name."""
    flats = [{k: v for k, v in _flatten({k: v for k, v in c.items() if k not in IGNORED_KEYS}).items() if k not in IGNORED_SETTINGS} for c in configs]
    variants = []
    for i, flat in enumerate(flats):
        others = [f for j, f in enumerate(flats) if j != i and configs[j]["name"] == configs[i]["name"]]
        # the protocol is not a variant: each protocol has a table of its own
        keys = [k for k in flat if k != "protocol" and any(o.get(k, object()) != flat[k] for o in others)]
        variants.append(", ".join(f"{k}={json.dumps(flat[k], default=str)}" for k in keys))
    return variants


def _stats(values: list[float]) -> tuple[float | None, float | None, int]:
    """(mean, sample std or None below two values, count)."""
    mean = statistics.fmean(values) if values else None
    std = statistics.stdev(values) if len(values) >= 2 else None
    return mean, std, len(values)


def _value(run: RunRecords, metric: str) -> float | None:
    value = METRICS[metric][1](run.summary)
    return float(value) if isinstance(value, (int, float)) and not math.isnan(value) else None


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
    if run_protocol(run) == "B" and _value(run, "best_val") is None:
        notes.append("no validation accuracy recorded")
    if not run.config.get("data", {}).get("test", True):
        notes.append("no test split (data.test=false)")
    elif _value(run, "accuracy") is None:
        notes.append("no test accuracy recorded")
    return notes


def collect_rows(run_paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """One row per configuration (runs equal but for seed, output_dir, description), in first-seen order."""
    groups: dict[str, list[RunRecords]] = {}
    for path in run_paths:
        run = load_run(path)
        groups.setdefault(_config_key(run.config), []).append(run)
    variants = _variants([runs[0].config for runs in groups.values()])
    rows = []
    for runs, variant in zip(groups.values(), variants, strict=True):
        row: dict[str, Any] = {
            "protocol": run_protocol(runs[0]), "name": runs[0].name, "variant": variant, "n": len(runs),
            "seeds": [run.config["seed"] for run in runs], "epochs": [run.summary.get("epochs_completed") for run in runs],
        }  # fmt: skip
        for prefix in METRICS:
            values = [v for v in (_value(run, prefix) for run in runs) if v is not None]
            row[f"{prefix}_mean"], row[f"{prefix}_std"], row[f"{prefix}_n"] = _stats(values)
        notes = [f"{run.path.name}: {note}" if len(runs) > 1 else note for run in runs for note in _notes(run)]
        row["note"] = "; ".join(notes)
        row["runs"] = [str(run.path) for run in runs]
        rows.append(row)
    return sorted(rows, key=lambda row: row["protocol"])  # grouped by protocol, first-seen order within


def _epochs(epochs: Sequence[int | None]) -> str:
    known = [e for e in epochs if isinstance(e, int)]
    if not known:
        return "-"
    return str(known[0]) if min(known) == max(known) else f"{min(known)}-{max(known)}"


def _cell(row: dict[str, Any], prefix: str) -> str:
    """ "mean ± std (n=k)" in %, "-" for a missing mean or std."""
    mean, std, count = row[f"{prefix}_mean"], row[f"{prefix}_std"], row[f"{prefix}_n"]
    if mean is None:
        return "-"
    return f"{100 * mean:.2f} ± {'-' if std is None else f'{100 * std:.2f}'} (n={count})"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one Markdown table per protocol, each headed by what its protocol reports; accuracies in %."""
    sections = []
    for protocol in sorted({row["protocol"] for row in rows}):
        metrics = [prefix for prefix in METRICS if protocol == "B" or prefix == "accuracy"]
        titles = ["name", "n", "seeds", "epochs", *(METRICS[prefix][0] for prefix in metrics), "note"]
        lines = [f"Protocol {protocol}: {RULES.get(protocol, 'unknown protocol')}.", "",
                 "| " + " | ".join(titles) + " |", "|" + "|".join(["---"] * len(titles)) + "|"]  # fmt: skip
        for row in (r for r in rows if r["protocol"] == protocol):
            name = f"{row['name']} [{row['variant']}]" if row["variant"] else row["name"]
            cells = [name, str(row["n"]), ", ".join(map(str, row["seeds"])), _epochs(row["epochs"])]
            cells += [_cell(row, prefix) for prefix in metrics] + [row["note"] or ""]
            lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def write_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """The rows as CSV (accuracies as fractions, empty where missing; lists ";"-joined), written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = {k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS}
        epochs = _epochs(row["epochs"])
        out.update(seeds=";".join(map(str, row["seeds"])), epochs="" if epochs == "-" else epochs, runs=";".join(row["runs"]))
        writer.writerow(out)
    return write_bytes_atomically(path, buffer.getvalue().encode("utf-8"), durable=False)

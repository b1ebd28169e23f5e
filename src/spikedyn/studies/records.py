"""A study's per-run records: each run's config, summary and per-epoch metrics, small enough to commit, with relative paths.

The report is computed from these alone (never from the run folders, which hold checkpoints
and absolute paths), so ``spikedyn study NAME --report-only --out FOLDER`` rebuilds the same
study.md, tables and figures wherever the folder is checked out. A run's summary keeps what
the report reads; what names one machine (pid, host, absolute paths) is left out.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from spikedyn.atomic import write_bytes_atomically

RECORDS = "records"
#: The files of a run that the report reads.
FILES = ("config.yaml", "metrics.jsonl")
#: Summary fields that name a machine or a path, not a result.
MACHINE_FIELDS = ("pid", "host", "run_dir", "checkpoints", "updated")


def portable_summary(summary: dict) -> dict:
    """``summary`` without the fields that name the machine or absolute paths it was written on."""
    return {key: value for key, value in summary.items() if key not in MACHINE_FIELDS}


def export_records(run_folder: Path, destination: Path) -> None:
    """Copy a run's config and metrics, and its portable summary, into ``destination`` (replacing what was there)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        source = run_folder / name
        if source.is_file():
            write_bytes_atomically(destination / name, source.read_bytes(), durable=False)
    summary_file = run_folder / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() else {}
    write_bytes_atomically(destination / "summary.json", (json.dumps(portable_summary(summary), indent=1) + "\n").encode(), durable=False)


def export_all(run_folders: dict[str, Path], study_folder: Path) -> Path:
    """The records of every run that has a config, under ``study_folder/records/<run>``; runs no longer in the sweep are removed."""
    folder = study_folder / RECORDS
    for name, run_folder in run_folders.items():
        if (run_folder / "config.yaml").is_file():
            export_records(run_folder, folder / name)
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.name not in run_folders and stale.is_dir():
                shutil.rmtree(stale)
    return folder

"""The runs under a folder, with their status and best accuracies; and the runs a sweep started whose folders were lost since.

A sweep marks each run it starts twice: in its own folder (``<sweep>/.started/<run name>``) and
in the run's (``<run>/.sweep-started``). A run so marked whose folder is gone, or whose folder
lost its mark and holds no config.yaml (deleted while it trained, then written again in part by
the process still training), is *missing*: its records are lost, and a table or a count that
left it out silently would be wrong.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from spikedyn.training.protocols import max_test_info, reported
from spikedyn.training.runs.folder import RunFolder, now, write_json
from spikedyn.training.runs.lock import lock_held

STARTED = ".started"  # in a sweep's folder: one file per run the sweep has started or submitted
RUN_MARK = ".sweep-started"  # in a run's folder, written with the sweep's mark: gone when the folder was deleted


def mark_started(run_dir: str | os.PathLike[str]) -> None:
    """Record that the sweep starts the run in ``run_dir`` (an existing folder), so that the loss of its folder can be told."""
    run, mark = Path(run_dir), {"started": now()}
    write_json(run / RUN_MARK, mark)
    write_json(run.parent / STARTED / run.name, mark)


def lost_reason(run_dir: str | os.PathLike[str]) -> str | None:
    """Why the run a sweep started in ``run_dir`` is missing (its folder deleted since); None when it is not, or was never marked."""
    run = RunFolder(run_dir)
    if not (run.path.parent / STARTED / run.path.name).is_file():
        return None
    if not run.path.is_dir():
        return f"its folder {run.path} was deleted after the sweep started it"
    if run.config_file.is_file() or (run.path / RUN_MARK).is_file():
        return None
    return f"its folder {run.path} was deleted after the sweep started it, then written again in part (it has no config.yaml)"


def missing_runs(sweep_folder: str | os.PathLike[str]) -> dict[str, str]:
    """{run name: why it is missing} for the runs the sweep in ``sweep_folder`` started whose folders were lost."""
    marks = Path(sweep_folder) / STARTED
    names = sorted(mark.name for mark in marks.iterdir() if mark.is_file() and not mark.name.startswith(".")) if marks.is_dir() else []
    return {name: reason for name in names if (reason := lost_reason(Path(sweep_folder) / name))}


def process_alive(pid: object, host: object) -> bool:
    """Whether process ``pid`` runs; one on another host is assumed to. A zombie is dead: a worker whose sweep was
    killed stays one where nothing reaps orphans (a container without an init), though it trains no more."""
    if host not in (None, socket.gethostname()):
        return True
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (not Linux)
        return True


def run_status(summary: dict[str, Any], host: str | None = None, folder: str | os.PathLike[str] | None = None) -> str:
    """The summary's status, with "running" read as "stopped" when no process holds the run's lock (or, where locks
    cannot tell, when its process on this host is gone)."""
    status = summary.get("status", "created")
    if status != "running" or summary.get("host", socket.gethostname()) != (host or socket.gethostname()):
        return status
    held = lock_held(folder) if folder is not None else None
    if held is not None:
        return status if held else "stopped (resume it)"
    pid = summary.get("pid")
    if isinstance(pid, int) and not process_alive(pid, None):
        return "stopped (resume it)"
    return status


def list_runs(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One entry per run folder below ``folder`` (sorted by path): name, status, epochs, accuracies."""
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"no folder {folder}: expected a folder holding run folders (spikedyn train writes them under runs/)")
    entries = []
    for config in sorted(Path(folder).rglob("config.yaml")):
        run = RunFolder(config.parent)
        summary = run.summary()
        protocol, result = reported(summary)
        entries.append({
            "run": str(run.path), "name": summary.get("name", run.path.name), "status": run_status(summary, folder=run.path),
            "epochs": f"{summary.get('epochs_completed', 0)}/{summary.get('max_epochs', '?')}",
            "protocol": protocol, "accuracy": result.get("test_acc"), "best_val": result.get("val_acc"),
            "max_test": max_test_info(summary).get("test_acc"),
        })  # fmt: skip
    return entries


def format_runs(entries: list[dict[str, Any]]) -> str:
    """A text table of :func:`list_runs`: each run's reported accuracy under its protocol (A: max test; B: test at best val)."""
    def pct(value: Any) -> str:
        return f"{100 * value:.2f}" if isinstance(value, (int, float)) else "-"

    lines = [f"{'run':50} {'status':20} {'epochs':>9} {'protocol':>8} {'acc %':>7} {'val %':>7} {'max test % (B, info)':>20}"]
    for e in entries:
        lines.append(f"{e['run']:50} {e['status']:20} {e['epochs']:>9} {e['protocol']:>8} {pct(e['accuracy']):>7} "
                     f"{pct(e['best_val']):>7} {pct(e['max_test']):>20}")  # fmt: skip
    return "\n".join(lines)

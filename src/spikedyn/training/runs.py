"""The runs under a folder, with their status and best accuracies."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from spikedyn.training.protocols import max_test_info, reported
from spikedyn.training.run_folder import RunFolder


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


def run_status(summary: dict[str, Any], host: str | None = None) -> str:
    """The summary's status, with "running" read as "stopped" when its process on this host is gone."""
    status = summary.get("status", "created")
    if status == "running" and summary.get("host", socket.gethostname()) == (host or socket.gethostname()):
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
            "run": str(run.path), "name": summary.get("name", run.path.name), "status": run_status(summary),
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

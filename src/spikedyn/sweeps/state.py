"""The state of one run of a sweep, read from its folder: pending, running, stopped, completed or failed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spikedyn.training.run_folder import RunFolder
from spikedyn.training.runs import process_alive

#: pending: not started; running: a live process trains it; stopped: interrupted or killed, it resumes from its
#: last checkpoint; completed: all its epochs are done; failed (or diverged): retried only with --retry-failed.
STATES = ("pending", "running", "stopped", "completed", "failed")


@dataclass(frozen=True)
class RunState:
    """A run's state, the error that failed it, and its summary.json."""

    state: str
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def holder_alive(folder: Path) -> bool:
    """Whether the process named in the folder's run.lock still runs."""
    try:
        holder = json.loads((folder / "run.lock").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(holder, dict) and process_alive(holder.get("pid"), holder.get("host"))


def run_state(folder: Path) -> RunState:
    """The state of the run in ``folder`` (which may not exist yet)."""
    run = RunFolder(folder)
    summary = run.summary()
    status = summary.get("status")
    if status == "completed":
        return RunState("completed", None, summary)
    if status in ("failed", "diverged"):
        return RunState("failed", summary.get("error") or status, summary)
    if status == "running":
        return RunState("running" if process_alive(summary.get("pid"), summary.get("host")) else "stopped", None, summary)
    if status == "interrupted" or run.config_file.exists():
        return RunState("running" if holder_alive(run.path) else "stopped", None, summary)
    return RunState("running" if holder_alive(run.path) else "pending", None, summary)

"""The state of one run of a sweep, read from its folder: pending, running, stopped, completed, failed or missing.

A run is running while a process holds its run.lock (:func:`~spikedyn.training.runs.lock.lock_held`),
whatever pid the lock file names: an ended process holds no lock, even one not yet reaped (a
zombie), and a pid may have been given to another process since. Only where flock cannot tell
(no ``fcntl``, a file system without it) does the pid decide; and a lock taken on another host
may not be visible here, so there the summary decides, and the state says so.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.runs.lock import lock_held, lock_holder
from spikedyn.training.runs.listing import lost_reason, process_alive

#: pending: not started; running: a process holds its lock; stopped: interrupted or killed, it resumes from its last
#: checkpoint; completed: all its epochs are done; failed (or diverged): retried only with --retry-failed; missing:
#: its folder (or its config.yaml) was deleted after the sweep started it, and its records with it.
STATES = ("pending", "running", "stopped", "completed", "failed", "missing")


@dataclass(frozen=True)
class RunState:
    """A run's state, the error that failed it (or why it is missing), its summary.json, and a note on how the state was told."""

    state: str
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


def _training(folder: Path, summary: dict[str, Any]) -> tuple[bool, str | None]:
    """(whether a process trains in ``folder`` now, a note when that could not be checked here)."""
    held = lock_held(folder)
    if held:
        return True, None
    holder = lock_holder(folder) or {key: summary[key] for key in ("pid", "host") if key in summary}
    host = holder.get("host")
    if host not in (None, socket.gethostname()):
        if summary.get("status") in (None, "running"):  # claimed there, not yet known to have ended
            return True, f"on host {host}: its lock cannot be checked from here"
        return False, None
    if held is None:  # no flock here: the pid decides
        return process_alive(holder.get("pid"), None), "no file locking here: told by its pid"
    return False, None


def run_state(folder: Path) -> RunState:
    """The state of the run in ``folder`` (which may not exist yet, or any more)."""
    lost = lost_reason(folder)
    run = RunFolder(folder)
    summary = run.summary()
    if lost is not None:
        return RunState("missing", lost, summary)
    status = summary.get("status")
    if status == "completed":
        return RunState("completed", None, summary)
    if status in ("failed", "diverged"):
        return RunState("failed", summary.get("error") or status, summary)
    training, note = _training(run.path, summary)
    if training:
        return RunState("running", None, summary, note)
    started = status in ("running", "interrupted") or run.config_file.exists()
    return RunState("stopped" if started else "pending", None, summary)

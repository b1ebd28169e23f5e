"""Runs that end early for a reason the user can act on: each gets its status and one clear line.

A Ctrl-C is recorded as "interrupted" (resumable), not as a failure with Lightning's empty
SystemExit; a full disk names the folder and the space left; a divergence names the epoch and
what diverged. The command line prints the message and no traceback; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import errno
import shutil
import traceback
from pathlib import Path

import lightning.pytorch as pl

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)


class RunStopped(Exception):
    """A run stopped early; ``str()`` is the one line to show."""


class RunInterrupted(RunStopped):
    """Stopped by the user (SIGINT); the run can be resumed."""


class DiskFull(RunStopped):
    """The device holding the run folder is full."""


def _free_mib(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:.0f} MiB free"
    except OSError:
        return "free space unknown"


def stop_reason(error: BaseException, trainer: pl.Trainer, folder: Path) -> tuple[str, str, RunStopped | None]:
    """(status, one-line message, the RunStopped to raise instead or None) for an exception that ended ``fit``."""
    if isinstance(error, KeyboardInterrupt) or (isinstance(error, SystemExit) and trainer.interrupted):
        message = f"interrupted (SIGINT) in epoch {trainer.current_epoch}; resume it with: spikedyn train --resume {folder}"
        return "interrupted", message, RunInterrupted(message)
    if isinstance(error, RunStopped):
        return getattr(error, "status", "failed"), str(error), None
    if isinstance(error, OSError) and error.errno in FULL_DISK:
        message = f"no space left on the device of {folder} ({_free_mib(folder)}): {error}"
        return "failed", message, DiskFull(message)
    return "failed", "".join(traceback.format_exception_only(error)).strip(), None

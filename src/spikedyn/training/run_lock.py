"""One process trains in a run folder at a time: an exclusive lock held for the run's whole life.

Two launches with the same SLURM job id, or two ``--resume`` of one folder, would otherwise
train into one folder and overwrite each other's config, metrics and checkpoints. The lock is an
``flock`` on ``<run>/run.lock``, which the operating system releases when the process ends in
any way (kill -9 included), so a killed run can always be resumed. Processes forked from the
holder (DataLoader workers) let go of it at once: otherwise an orphaned worker would keep a
killed run locked. The file names the holder (pid, host, start time) for the error the second
process gets. Where ``fcntl`` does not exist (Windows) nothing is locked.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

from spikedyn.training.config_types import ConfigError
from spikedyn.training.run_folder import now


class RunInUse(ConfigError):
    """The run folder is being trained in by another process."""


_held: set[int] = set()  # descriptors of the locks this process holds


def _let_go_in_child() -> None:
    """In a forked child, point each held lock's descriptor at /dev/null: the lock stays the parent's alone."""
    for descriptor in _held:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, descriptor)  # keeps the number valid for the child's copy of the file object
        os.close(null)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


class RunLock:
    """``with RunLock(folder):`` holds ``folder/run.lock`` exclusively, or raises :class:`RunInUse` naming the holder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / "run.lock"
        self._file = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")  # noqa: SIM115 - held open for the run's life
        if fcntl is not None:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.seek(0)
                holder = file.read().strip()
                file.close()
                raise RunInUse(f"{self.path.parent} is in use: another process is training in it ({holder or 'holder unknown'}); "
                               "wait for it to end, or train into another folder") from None  # fmt: skip
        file.seek(0)
        file.truncate()
        file.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now()}))
        file.flush()
        self._file = file
        _held.add(file.fileno())
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._file is not None:
            _held.discard(self._file.fileno())
            self._file.close()  # closing releases the flock
            self._file = None

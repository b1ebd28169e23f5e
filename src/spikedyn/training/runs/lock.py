"""One process trains in a run folder at a time: an exclusive lock held for the run's whole life.

Two launches with the same SLURM job id, or two ``--resume`` of one folder, would otherwise
train into one folder and overwrite each other's config, metrics and checkpoints. The lock is an
``flock`` on ``<run>/run.lock``, which the operating system releases when the process ends in
any way (kill -9 included), so a killed run can always be resumed. Processes forked from the
holder (DataLoader workers) let go of it at once: otherwise an orphaned worker would keep a
killed run locked. The file names the holder (pid, host, start time) for the error the second
process gets. Where ``fcntl`` does not exist (Windows) nothing is locked.

The lock also answers "is this run being trained?" (:func:`lock_held`): a process that has
ended, even one not yet reaped (a zombie), holds no lock, whatever its pid says. And the holder
can ask whether its folder is still there (:meth:`RunLock.check_held`): a folder deleted or
moved while a run trains must stop the run, not be written again in part.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

from spikedyn.training.config.types import ConfigError
from spikedyn.training.runs.folder import now

LOCK_FILE = "run.lock"
#: How long a process claiming a folder waits out processes that only look at its lock (:func:`lock_held`).
PROBE_WAIT_S = 2.0


class RunInUse(ConfigError):
    """The run folder is being trained in by another process."""


class RunFolderLost(RuntimeError):
    """The folder of a run in training, or its run.lock, was deleted, moved or replaced: whatever it writes next is lost."""


_held: set[int] = set()  # descriptors of the locks this process holds
_locks: dict[str, RunLock] = {}  # the locks this process holds, by the absolute path of their folder


def _let_go_in_child() -> None:
    """In a forked child, point each held lock's descriptor at /dev/null: the lock stays the parent's alone."""
    for descriptor in _held:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, descriptor)  # keeps the number valid for the child's copy of the file object
        os.close(null)
    _held.clear()
    _locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


def _key(folder: str | os.PathLike[str]) -> str:
    return os.path.abspath(folder)


def _only_looked_at(descriptor: int) -> bool:
    """After an exclusive flock was refused: whether the holders hold it shared, as :func:`lock_held` does, not as a trainer."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return True


def _lock_exclusively(descriptor: int) -> bool:
    """Take the exclusive flock; False when another trainer holds it. A process only looking at it is waited out."""
    deadline = time.monotonic() + PROBE_WAIT_S
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if not (_only_looked_at(descriptor) and time.monotonic() < deadline):
                return False
        time.sleep(0.001)


class RunLock:
    """``with RunLock(folder):`` holds ``folder/run.lock`` exclusively, or raises :class:`RunInUse` naming the holder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._file = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")  # noqa: SIM115 - held open for the run's life
        if fcntl is not None and not _lock_exclusively(file.fileno()):
            file.seek(0)
            holder = file.read().strip()
            file.close()
            raise RunInUse(f"{self.path.parent} is in use: another process is training in it ({holder or 'holder unknown'}); "
                           "wait for it to end, or train into another folder")  # fmt: skip
        file.seek(0)
        file.truncate()
        file.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now()}))
        file.flush()
        self._file = file
        _held.add(file.fileno())
        _locks[_key(self.path.parent)] = self
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._file is not None:
            _held.discard(self._file.fileno())
            if _locks.get(_key(self.path.parent)) is self:
                del _locks[_key(self.path.parent)]
            self._file.close()  # closing releases the flock
            self._file = None

    def check_held(self) -> None:
        """Raise :class:`RunFolderLost` when the folder or its run.lock is gone, or is another file than the one locked."""
        if self._file is None:
            raise RuntimeError(f"RunLock.check_held: {self.path} is not held; call it inside 'with RunLock(folder):'")
        locked = os.fstat(self._file.fileno())
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            raise RunFolderLost(f"{self.path.parent} was deleted or moved while this process trained in it (its {LOCK_FILE} is gone); "
                                "the run stops rather than write part of it there again") from None  # fmt: skip
        if (there.st_dev, there.st_ino) != (locked.st_dev, locked.st_ino):
            raise RunFolderLost(f"{self.path} is another file than the one this process locked ({self.path.parent} was deleted and made "
                                "again, or its lock replaced, while the run trained); the run stops rather than mix two runs' files")  # fmt: skip


def check_run_held(folder: str | os.PathLike[str]) -> None:
    """:meth:`RunLock.check_held` of the lock this process holds on ``folder``; nothing when it holds none (a rank that is not 0)."""
    lock = _locks.get(_key(folder))
    if lock is not None:
        lock.check_held()


def lock_held(folder: str | os.PathLike[str]) -> bool | None:
    """Whether some process holds ``folder/run.lock`` (False when there is no such file); None where flock cannot tell.

    A process that has ended holds no lock, even one not yet reaped (a zombie) or whose pid was
    given to another process since. None: no ``fcntl`` here (Windows), the file cannot be read, or
    its file system does not lock. The look takes a shared lock and lets go at once; a
    :class:`RunLock` taken at that instant waits for it rather than fail. Not for the holder
    itself: over NFS, flock is emulated by POSIX locks, which a process loses when it closes any
    descriptor of the file.
    """
    if fcntl is None:
        return None
    try:
        descriptor = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # ENOLCK, EOPNOTSUPP: a file system without flock
        return None
    finally:
        os.close(descriptor)  # closing lets go of the shared lock, if taken
    return False


def lock_holder(folder: str | os.PathLike[str]) -> dict[str, object]:
    """What ``folder/run.lock`` says of the process that last took it (pid, host, since); {} when nothing readable."""
    try:
        holder = json.loads((Path(folder) / LOCK_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}

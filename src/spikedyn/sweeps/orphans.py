"""A sweep's worker ends with the sweep: killed, even by SIGKILL, the sweep takes its running workers with it.

Otherwise a worker of a killed sweep would train on unseen, holding its run's folder, while
the sweep started again skips or races it. On Linux the kernel sends SIGKILL to the worker
when the thread that started it ends (``PR_SET_PDEATHSIG``; the sweep starts its workers from
its main thread); elsewhere a thread watches for the parent to go. Either way the run stops
as a ``kill -9`` would stop it, and resumes from its last checkpoint.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time

#: Set by the sweep for its workers: the pid of the sweep process.
PARENT_VARIABLE = "SPIKEDYN_SWEEP_PARENT"
_PR_SET_PDEATHSIG = 1


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent() -> None:
    """If started by a sweep, be killed when that sweep process ends (and at once if it already has)."""
    parent = os.environ.pop(PARENT_VARIABLE, None)  # not for the processes this one starts (DDP ranks, loaders)
    if not parent:
        return
    try:
        armed = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (AttributeError, OSError):
        armed = False
    if not armed:
        threading.Thread(target=_watch, args=(int(parent),), daemon=True, name="spikedyn-sweep-parent").start()
    if os.getppid() != int(parent):  # the sweep ended before the line above
        os.kill(os.getpid(), signal.SIGKILL)

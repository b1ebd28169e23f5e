"""The local executor: up to N runs at once, each in a worker process of its own, the machine's cores shared between them.

A worker is ``python -m spikedyn.cli sweep-run FILE RUN --out OUT``: it trains one run in its
folder (resuming it when it has a checkpoint) with the sweep file's ``threads`` (default 1,
whatever N: a run's metrics must not depend on how many runs share the machine), and writes
its output to the run's ``train.log``. Workers run in their own session, so a Ctrl-C reaches
the sweep alone, which passes a SIGINT to each worker (each records its run as interrupted)
and waits for them, sending it again to one that missed it; a second Ctrl-C kills them. A
killed sweep takes its workers with it (:mod:`spikedyn.sweeps.orphans`).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from spikedyn.sweeps.expand import SweepRun
from spikedyn.sweeps.orphans import PARENT_VARIABLE
from spikedyn.sweeps.state import run_state
from spikedyn.sweeps.sweep import LOG, Sweep
from spikedyn.training.runs.folder import RunFolder, now
from spikedyn.training.runs.listing import mark_started

INTERRUPTED = 130
POLL_S = 0.1
#: A SIGINT that lands in a ctypes callback (numba compiling, say) is lost; a worker still running after this long gets another.
RESEND_S = 5.0


def cores() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _Worker:
    number: int
    run: SweepRun
    folder: Path
    process: subprocess.Popen
    started: float


def worker_command(sweep: Sweep, run: SweepRun) -> list[str]:
    """The command line of the worker that trains ``run``."""
    return [sys.executable, "-m", "spikedyn.cli", "sweep-run", str(sweep.file.path), run.name, "--out", str(sweep.folder.parent)]


def _start(sweep: Sweep, run: SweepRun, number: int, threads: int) -> _Worker:
    folder = sweep.run_dir(run)
    folder.mkdir(parents=True, exist_ok=True)
    command = worker_command(sweep, run)
    threads_text = str(threads)
    environment = {**os.environ, PARENT_VARIABLE: str(os.getpid()), "OMP_NUM_THREADS": threads_text, "MKL_NUM_THREADS": threads_text}
    mark_started(folder)
    with open(folder / LOG, "a") as log:  # the worker holds its own descriptor
        log.write(f"== {now()}: {shlex.join(command)} ({threads} threads)\n")
        log.flush()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True)
    return _Worker(number, run, folder, process, time.monotonic())


def _last_line(log: Path) -> str:
    """The last line the worker wrote (its error), without the command's prefix."""
    try:
        with log.open("rb") as file:
            file.seek(max(0, log.stat().st_size - 8192))
            lines = [line.strip() for line in file.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].removeprefix("spikedyn sweep-run: ") if lines else ""


def _outcome(worker: _Worker, stopping: bool) -> tuple[str, str]:
    """(state, what to say) of a worker that has ended; a failure the run's summary does not hold yet is written there.

    A run whose folder was lost while it trained is missing, whatever the worker did: nothing is written for it.
    """
    code = worker.process.returncode
    state = run_state(worker.folder)
    if state.state == "missing":
        return "missing", f"missing: {state.error} (the worker exited with status {code})"
    if state.state == "completed":
        return "completed", f"completed in {time.monotonic() - worker.started:.0f} s"
    if state.state == "failed" and state.summary.get("pid") == worker.process.pid:  # its own record, not an earlier attempt's
        return "failed", f"{state.summary.get('status', 'failed')}: {state.error}"
    if stopping or code in (INTERRUPTED, -signal.SIGINT):
        return "stopped", "interrupted; it resumes when the sweep is run again"
    if state.state == "running":
        return "running", "another process is training it; left to that one"
    if code == 0:
        return state.state, f"ended, {state.state}"
    error = _last_line(worker.folder / LOG) if code > 0 else f"killed by signal {-code}" + (" (out of memory?)" if code == -signal.SIGKILL else "")
    RunFolder(worker.folder).update_summary(status="failed", error=error or f"the worker exited with status {code}")
    return "failed", f"failed: {error}"


def interrupt(processes: list[subprocess.Popen]) -> None:
    """SIGINT to each worker until it ends (each records its run as interrupted); a Ctrl-C meanwhile kills them."""
    running = list(processes)
    try:
        while running:
            for process in running:
                with suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + RESEND_S
            while running and time.monotonic() < deadline:
                time.sleep(POLL_S)
                running = [process for process in running if process.poll() is None]
    except KeyboardInterrupt:
        for process in processes:
            with suppress(ProcessLookupError):
                process.kill()
        for process in processes:
            process.wait()


def run_local(sweep: Sweep, runs: list[SweepRun], workers: int, say: Callable[[str], None] = print) -> int:
    """Train ``runs`` with up to ``workers`` at once; 0 when all completed, 1 when some failed or went missing, 130 when interrupted."""
    threads = sweep.file.threads
    queue, active, failed = deque(runs), [], 0
    total = len(runs)
    try:
        while queue or active:
            while queue and len(active) < workers:
                worker = _start(sweep, queue.popleft(), total - len(queue), threads)
                active.append(worker)
                say(f"[{worker.number}/{total}] {worker.run.name}: started (log: {worker.folder / LOG})")
            ended = [worker for worker in active if worker.process.poll() is not None]
            for worker in ended:
                active.remove(worker)
                state, message = _outcome(worker, stopping=False)
                failed += state in ("failed", "missing")
                say(f"[{worker.number}/{total}] {worker.run.name}: {message}")
            if not ended:
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        say(f"interrupted: stopping {len(active)} running run(s) ...")
        interrupt([worker.process for worker in active])
        for worker in active:
            say(f"[{worker.number}/{total}] {worker.run.name}: {_outcome(worker, stopping=True)[1]}")
        return INTERRUPTED
    return 1 if failed else 0

"""A run is running while a process holds its run.lock: not because a pid named somewhere is alive (a zombie, a pid reused)."""

import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from spikedyn.cli import main
from spikedyn.sweeps.state import run_state
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.config import load_config, save_config
from spikedyn.training.runs.lock import RunInUse, RunLock, lock_held
from spikedyn.training.config.schema import ExperimentConfig
from tests.sweeps.sweeps import write_sweep

pytestmark = pytest.mark.drill


def _stopped_run(folder: Path, pid: int, host: str | None = None, config: ExperimentConfig | None = None) -> None:
    """A run folder as a killed trainer leaves it: its config, a summary that says running, a run.lock naming ``pid``, no lock held."""
    folder.mkdir(parents=True, exist_ok=True)
    save_config(config or load_config(None, []), folder / "config.yaml")
    holder = {"pid": pid, "host": host or socket.gethostname(), "since": "2026-01-01T00:00:00+00:00"}
    (folder / "run.lock").write_text(json.dumps(holder))
    (folder / "summary.json").write_text(json.dumps({"status": "running", **holder}))


@pytest.fixture
def zombie():
    """The pid of a child that has exited and is not reaped yet (a zombie), until the test ends."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # waits for its exit, and leaves it unreaped
    yield child.pid
    child.wait()


@pytest.fixture
def sleeper():
    """The pid of a live process that holds no lock (as a dead trainer's pid, given to another process since, is)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


def test_a_run_whose_lock_names_a_zombie_or_a_live_process_holding_no_lock_is_stopped(tmp_path, zombie, sleeper):
    assert Path(f"/proc/{zombie}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    for pid in (zombie, sleeper):
        _stopped_run(tmp_path / str(pid), pid)
        assert lock_held(tmp_path / str(pid)) is False
        assert run_state(tmp_path / str(pid)).state == "stopped"


def test_a_run_whose_lock_is_held_is_running_whatever_pid_the_file_names(tmp_path, zombie):
    folder = tmp_path / "run"
    _stopped_run(folder, zombie)  # the file names a dead process ...
    with open(folder / "run.lock") as held:  # ... but this live process holds the lock
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert lock_held(folder) is True
        assert run_state(folder).state == "running"
    assert lock_held(folder) is False and run_state(folder).state == "stopped"
    assert lock_held(tmp_path / "no such run") is False


def test_a_rerun_after_the_sweep_was_killed_resumes_a_run_whose_pid_lives_on_in_another_process(tmp_path, capsys, sleeper):
    path = write_sweep(tmp_path)
    out = tmp_path / "runs"
    sweep = Sweep.load(path, out)
    [run] = sweep.runs
    _stopped_run(sweep.run_dir(run), sleeper, config=sweep.config(run))
    capsys.readouterr()
    assert main(["sweep", str(path), "--dry-run", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 runs: 0 pending, 0 running, 1 stopped" in printed and "to train: 1 run(s):\n  seed=1 (stopped, no epoch recorded)" in printed
    assert "running in another process" not in printed


def test_a_run_trained_on_another_host_is_taken_as_running_and_says_it_cannot_be_checked(tmp_path, capsys, sleeper):
    path = write_sweep(tmp_path)
    out = tmp_path / "runs"
    _stopped_run(out / "tiny" / "seed=1", sleeper, host="node-elsewhere")
    state = run_state(out / "tiny" / "seed=1")
    assert (state.state, state.note) == ("running", "on host node-elsewhere: its lock cannot be checked from here")
    assert main(["sweep", "status", str(path), "--out", str(out)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("seed=1")]
    assert line.split()[:2] == ["seed=1", "running"] and line.endswith("  on host node-elsewhere: its lock cannot be checked from here")


def test_a_look_at_the_lock_does_not_refuse_a_trainer_but_a_trainer_does(tmp_path):
    (tmp_path / "run.lock").write_text("{}")
    with open(tmp_path / "run.lock") as looking:
        fcntl.flock(looking.fileno(), fcntl.LOCK_SH)  # what lock_held takes for an instant
        threading.Timer(0.05, fcntl.flock, (looking.fileno(), fcntl.LOCK_UN)).start()
        with RunLock(tmp_path):  # waits for the look to end
            assert json.loads((tmp_path / "run.lock").read_text())["pid"] == os.getpid()
            with pytest.raises(RunInUse, match=f"{tmp_path} is in use"):
                with RunLock(tmp_path):
                    pass

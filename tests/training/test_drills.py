"""Fault drills on whole runs: kill -9 at random points, two launches of one job, Ctrl-C.

They run the ``spikedyn`` command in subprocesses, as a user or a cluster would, and compare
records byte for byte. Marked ``drill``: part of the default run and of CI.
"""

import json
import random
import signal
import subprocess
import time

import pytest

from tests.training.runs import FAST, cli, history, only_run, start_cli

pytestmark = [pytest.mark.drill, pytest.mark.slow]
RECORDS = ("metrics.jsonl", "metrics.csv")


def _wait_for(predicate, process: subprocess.Popen, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _holds_lock(run_folder, process: subprocess.Popen) -> bool:
    """Whether ``process`` has claimed the run folder (its pid is in run.lock): it trains from here on."""
    try:
        return json.loads((run_folder / "run.lock").read_text()).get("pid") == process.pid
    except (OSError, ValueError):
        return False


def _kill_while_running(process: subprocess.Popen) -> None:
    """SIGKILL ``process``, asserting it was still running: the kill cut a run short."""
    assert process.poll() is None, "the run finished before it could be killed: the drill killed nothing"
    process.kill()
    process.wait()


def test_kill_9_at_random_points_then_resume_gives_byte_identical_records(tmp_path):
    args = ["train", *FAST, "trainer.max_epochs=6", "seed=11"]
    assert cli(*args, "--out", str(tmp_path / "whole")).returncode == 0
    whole = only_run(tmp_path / "whole")
    expected = {name: (whole / name).read_bytes() for name in RECORDS}

    chances = random.Random(2026)
    first = start_cli(*args, "--out", str(tmp_path / "killed"))
    assert _wait_for(lambda: any(history(p.parent) for p in (tmp_path / "killed").rglob("metrics.jsonl")), first)
    time.sleep(chances.uniform(0.0, 1.0))  # within the second epoch, maybe mid-write
    _kill_while_running(first)
    run = only_run(tmp_path / "killed")
    epochs_before = len(history(run))
    for _ in range(3):  # killed again at random points of each resume, once it has claimed the folder
        resumed = start_cli("train", "--resume", str(run))
        assert _wait_for(lambda: _holds_lock(run, resumed), resumed)
        time.sleep(chances.uniform(0.2, 1.5))
        _kill_while_running(resumed)
    assert len(history(run)) < 6, "the killed runs finished every epoch: resuming was not tested"
    finished = cli("train", "--resume", str(run))
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert len(history(run)) == 6 and epochs_before >= 1
    for name in RECORDS:
        assert (run / name).read_bytes() == expected[name], f"{name} differs from the uninterrupted run's"
    assert not [p for p in run.rglob("*.tmp")], "a temporary file was left behind"


def test_two_launches_of_one_job_train_once_and_the_second_is_refused_by_name(tmp_path):
    job = {"SLURM_JOB_ID": "4242"}
    args = ["train", *FAST, "trainer.max_epochs=3", "--out", str(tmp_path)]
    first = start_cli(*args, env=job)
    folder = tmp_path / "digits-job4242"
    assert _wait_for(lambda: _holds_lock(folder, first), first)
    first.send_signal(signal.SIGSTOP)  # held: the second launch meets the lock, however fast the first would have been
    try:
        second = cli(*args, env=job)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2
    assert f"{folder} is in use: another process is training in it" in second.stderr
    assert f'"pid": {first.pid}' in second.stderr
    assert first.wait(timeout=300) == 0
    assert json.loads((folder / "summary.json").read_text())["status"] == "completed"
    assert [row["epoch"] for row in history(folder)] == list(range(3))


def test_ctrl_c_records_an_interrupted_run_that_resumes(tmp_path):
    args = ["train", *FAST, "trainer.max_epochs=5", "--out", str(tmp_path)]
    process = start_cli(*args)
    assert _wait_for(lambda: any(len(history(p.parent)) >= 1 for p in tmp_path.rglob("metrics.jsonl")), process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 130
    message = process.stderr.read().decode().strip().splitlines()
    assert message[-1].startswith("spikedyn train: interrupted (SIGINT) in epoch") and "--resume" in message[-1]
    assert not any(line.startswith("Traceback") for line in message)
    run = only_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["error"].startswith("interrupted (SIGINT)")
    resumed = cli("train", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [row["epoch"] for row in history(run)] == list(range(5))

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


def test_kill_9_at_random_points_then_resume_gives_byte_identical_records(tmp_path):
    args = ["train", *FAST, "trainer.max_epochs=4", "seed=11"]
    assert cli(*args, "--out", str(tmp_path / "whole")).returncode == 0
    whole = only_run(tmp_path / "whole")
    expected = {name: (whole / name).read_bytes() for name in RECORDS}

    chances = random.Random(2026)
    first = start_cli(*args, "--out", str(tmp_path / "killed"))
    assert _wait_for(lambda: list((tmp_path / "killed").rglob("summary.json")), first)
    time.sleep(chances.uniform(0.5, 3.0))  # anywhere in the first epochs, maybe mid-write
    first.kill()
    first.wait()
    run = only_run(tmp_path / "killed")
    for _ in range(3):  # killed again at random points of each resume
        resumed = start_cli("train", "--resume", str(run))
        time.sleep(chances.uniform(1.0, 4.0))
        resumed.kill()
        resumed.wait()
    finished = cli("train", "--resume", str(run))
    assert finished.returncode == 0, finished.stderr[-2000:]
    for name in RECORDS:
        assert (run / name).read_bytes() == expected[name], f"{name} differs from the uninterrupted run's"
    assert not [p for p in run.rglob("*.tmp")], "a temporary file was left behind"


def test_two_launches_of_one_job_train_once_and_the_second_is_refused_by_name(tmp_path):
    job = {"SLURM_JOB_ID": "4242"}
    args = ["train", *FAST, "trainer.max_epochs=6", "--out", str(tmp_path)]
    first = start_cli(*args, env=job)
    folder = tmp_path / "digits-job4242"
    assert _wait_for(lambda: (folder / "summary.json").exists(), first)
    second = cli(*args, env=job)
    assert second.returncode == 2
    assert f"{folder} is in use: another process is training in it" in second.stderr
    assert f'"pid": {first.pid}' in second.stderr
    assert first.wait(timeout=300) == 0
    assert json.loads((folder / "summary.json").read_text())["status"] == "completed"
    assert [row["epoch"] for row in history(folder)] == list(range(6))


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

"""A sweep killed with SIGKILL mid-way and started again ends with the records of a sweep never interrupted, byte for byte."""

import subprocess
import sys
import time

import pytest

from spikedyn.cli import main
from spikedyn.training.runs.lock import lock_held
from tests.sweeps.sweeps import TINY, summary, write_sweep

pytestmark = [pytest.mark.drill, pytest.mark.slow]
RECORDS = ("metrics.jsonl", "metrics.csv")


def _epochs(run) -> int:
    try:
        return len((run / "metrics.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0


def test_a_sweep_killed_mid_way_then_run_again_ends_as_one_never_interrupted(tmp_path, capsys):
    path = write_sweep(tmp_path, overrides={**TINY, "trainer.max_epochs": 4}, seeds=[1, 2])
    assert main(["sweep", str(path), "--workers", "2", "--out", str(tmp_path / "whole")]) == 0
    names = ("seed=1", "seed=2")
    expected = {(name, record): (tmp_path / "whole" / "tiny" / name / record).read_bytes() for name in names for record in RECORDS}

    killed = tmp_path / "killed"
    runs = [killed / "tiny" / name for name in names]
    sweep = subprocess.Popen([sys.executable, "-m", "spikedyn.cli", "sweep", str(path), "--workers", "2", "--out", str(killed)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sweep.poll() is None and not any(_epochs(run) >= 1 for run in runs):
        time.sleep(0.02)
    sweep.kill()
    sweep.wait()
    # the workers die with the sweep (SIGKILL from the kernel): each lets go of its run's lock when it has ended, zombie or not
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(lock_held(run) for run in runs):
        time.sleep(0.02)
    assert not any(lock_held(run) for run in runs), "a worker still trains 60 s after its sweep was killed"
    cut_short = [run for run in runs if not (run / "summary.json").exists() or summary(run)["status"] != "completed"]
    assert cut_short, "the sweep finished before it could be killed"

    capsys.readouterr()
    assert main(["sweep", str(path), "--workers", "2", "--out", str(killed)]) == 0
    printed = capsys.readouterr().out
    assert "2 runs: 0 pending, 0 running, 0 stopped, 2 completed, 0 failed" in printed
    for name in names:
        for record in RECORDS:
            assert (killed / "tiny" / name / record).read_bytes() == expected[(name, record)], f"{name}/{record} differs from the uninterrupted sweep's"
        assert summary(killed / "tiny" / name)["status"] == "completed"

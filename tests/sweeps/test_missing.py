"""A run whose folder is deleted during a sweep is missing: its trainer can tell, the sweep says so, and trains it again when run again."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spikedyn.cli import main
from spikedyn.sweeps.state import run_state
from spikedyn.training.config import load_config, save_config
from spikedyn.training.runs.lock import RunFolderLost, RunLock, check_run_held
from spikedyn.training.runs.listing import mark_started, missing_runs
from tests.sweeps.sweeps import TINY, summary, write_sweep

pytestmark = pytest.mark.drill


def test_the_holder_of_a_lock_is_told_when_its_folder_is_deleted_or_made_again(tmp_path):
    folder = tmp_path / "run"
    with RunLock(folder) as lock:
        lock.check_held()
        check_run_held(folder)
        shutil.rmtree(folder)
        with pytest.raises(RunFolderLost, match=rf"{folder} was deleted or moved while this process trained in it"):
            check_run_held(folder)
        folder.mkdir()
        (folder / "run.lock").write_text("{}")  # a new folder of the same name: another file than the one locked
        with pytest.raises(RunFolderLost, match=rf"{folder / 'run.lock'} is another file than the one this process locked"):
            lock.check_held()
    check_run_held(folder)  # no lock held on it here any more: nothing to check
    with pytest.raises(RuntimeError, match="is not held"):
        RunLock(folder).check_held()


def test_a_started_run_whose_folder_is_gone_or_written_again_in_part_is_missing(tmp_path):
    sweep = tmp_path / "sweep"
    gone, partial, failed, remade, new = (sweep / name for name in ("gone", "partial", "failed", "remade", "new"))
    for run in (gone, partial, failed, remade):
        run.mkdir(parents=True)
        mark_started(run)
        shutil.rmtree(run) if run in (gone, partial, remade) else None
    partial.mkdir()  # what a trainer that goes on writes into its deleted folder: records, no config.yaml
    (partial / "summary.json").write_text(json.dumps({"status": "failed", "error": "FileNotFoundError: checkpoints/best.ckpt.tmp"}))
    (failed / "summary.json").write_text(json.dumps({"status": "failed", "error": "bad option"}))  # failed before it started
    save_config(load_config(None, []), remade / "config.yaml")  # deleted before its trainer claimed it: a whole run
    states = {run.name: run_state(run) for run in (gone, partial, failed, remade, new)}
    assert {name: state.state for name, state in states.items()} == {
        "gone": "missing", "partial": "missing", "failed": "failed", "remade": "stopped", "new": "pending"}  # fmt: skip
    assert states["gone"].error == f"its folder {gone} was deleted after the sweep started it"
    assert states["partial"].error == f"its folder {partial} was deleted after the sweep started it, then written again in part (it has no config.yaml)"
    assert missing_runs(sweep) == {"gone": states["gone"].error, "partial": states["partial"].error}


def _epochs(run: Path) -> int:
    try:
        return len((run / "metrics.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0


def _log(run: Path) -> str:
    """The worker's log of ``run``, to show with a failure."""
    try:
        return (run / "train.log").read_text()
    except FileNotFoundError:
        return f"(no {run / 'train.log'})"


def _delete(folder: Path) -> None:
    """Delete ``folder`` as ``rm -rf`` would, though its trainer keeps writing into it."""
    for _ in range(1000):
        try:
            shutil.rmtree(folder)
            return
        except OSError:  # a file written or renamed meanwhile ("directory not empty", "no such file")
            if not folder.exists():
                return
    raise AssertionError(f"could not delete {folder}")


@pytest.mark.slow
def test_a_run_folder_deleted_during_the_sweep_is_reported_missing_and_trained_again_by_the_next(tmp_path, capsys):
    path = write_sweep(tmp_path, overrides={**TINY, "trainer.max_epochs": 3}, seeds=[1, 2])
    out = tmp_path / "runs"
    deleted = out / "tiny" / "seed=2"
    sweep = subprocess.Popen([sys.executable, "-m", "spikedyn.cli", "sweep", str(path), "--workers", "2", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sweep.poll() is None and _epochs(deleted) < 1:
        time.sleep(0.02)
    assert sweep.poll() is None and _epochs(deleted) >= 1, "the run ended before its folder could be deleted"
    _delete(deleted)
    printed, _ = sweep.communicate(timeout=300)
    assert sweep.returncode == 1, printed
    assert "seed=2: missing: its folder" in printed and "2 runs: 0 pending, 0 running, 0 stopped, 1 completed, 0 failed, 1 missing" in printed
    assert "missing, their records lost with their folder (run the sweep again to train them from the start" in printed
    assert summary(out / "tiny" / "seed=1")["status"] == "completed"
    if deleted.exists():  # the trainer wrote part of it again: nothing a run may resume from, and left to the user to move
        assert not (deleted / "config.yaml").exists()
        capsys.readouterr()
        assert main(["sweep", str(path), "--dry-run", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "to train: 0 run(s)" in printed and "missing, their records lost with their folder (not trained: move each folder away" in printed
        shutil.rmtree(deleted)

    capsys.readouterr()
    assert main(["sweep", "status", str(path), "--out", str(out)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("seed=2")]
    assert line.split()[1] == "missing" and line.endswith(f"its folder {deleted} was deleted after the sweep started it")
    code = main(["sweep", str(path), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed + _log(deleted)
    assert f"  seed=2 (missing: its folder {deleted} was deleted after the sweep started it; trained again from the start)" in printed
    assert "2 runs: 0 pending, 0 running, 0 stopped, 2 completed, 0 failed, 0 missing" in printed
    assert summary(deleted)["status"] == "completed" and summary(deleted)["resumed"] is False

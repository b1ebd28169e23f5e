"""A run killed with SIGKILL and resumed ends with exactly the metrics of an uninterrupted run."""

import json
import math
import time

import pytest

from tests.training.runs import FAST, cli, history, only_run, start_cli

pytestmark = pytest.mark.slow
EPOCHS = 5


@pytest.mark.parametrize("loading", [[], ["data.num_workers=2", "data.options.augment=true"]], ids=["in-process", "workers+augmentation"])
def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path, loading):
    args = ["train", *FAST, *loading, f"trainer.max_epochs={EPOCHS}", "seed=7"]
    whole = cli(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = history(only_run(tmp_path / "whole"))
    assert len(expected) == EPOCHS

    process = start_cli(*args, "--out", str(tmp_path / "killed"))
    deadline = time.monotonic() + 240
    run = None
    while time.monotonic() < deadline and process.poll() is None:
        runs = [p.parent for p in (tmp_path / "killed").rglob("config.yaml")]
        if runs and (runs[0] / "metrics.jsonl").exists() and len(history(runs[0])) >= 2:
            run = runs[0]
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    assert run is not None, "the run to kill never finished two epochs"
    before = json.loads((run / "summary.json").read_text())
    assert before["status"] == "running" and before["epochs_completed"] < EPOCHS  # it really was cut short

    listed = cli("runs", str(tmp_path / "killed"))
    assert "stopped (resume it)" in listed.stdout

    resumed = cli("train", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = history(run)
    assert [row["epoch"] for row in got] == list(range(EPOCHS))
    for mine, theirs in zip(got, expected):
        assert mine.keys() == theirs.keys()
        for key in mine:
            same = mine[key] == theirs[key] or (isinstance(mine[key], float) and math.isnan(mine[key]) and math.isnan(theirs[key]))
            assert same, f"epoch {mine['epoch']} {key}: resumed {mine[key]} != uninterrupted {theirs[key]}"
    after = json.loads((run / "summary.json").read_text())
    assert after["status"] == "completed" and after["resumed"] is True
    assert after["protocol_B"] == json.loads((only_run(tmp_path / "whole") / "summary.json").read_text())["protocol_B"]


def test_a_damaged_checkpoint_stops_the_resume_and_leaves_the_run_intact(tmp_path):
    done = cli("train", *FAST, "trainer.max_epochs=1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    run = only_run(tmp_path)
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    files = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    failed = cli("train", "--resume", str(run))
    assert failed.returncode == 2
    assert f"checkpoint {last} cannot be read" in failed.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == files

"""Two processes with DDP on the CPU (gloo): the run trains, and its accuracies cover the whole splits."""

import json

import pytest

from spikedyn.data import build_dataset
from spikedyn.training.evaluate import evaluate
from tests.training.runs import FAST, cli, history, only_run

pytestmark = pytest.mark.slow


def test_two_process_ddp_logs_accuracy_over_the_whole_dataset(tmp_path):
    done = cli(
        "train", *FAST, "data.options.time_steps=4", "trainer.max_epochs=4", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    run = only_run(tmp_path)
    rows = history(run)
    assert [row["epoch"] for row in rows] == [0, 1, 2, 3]
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    # the test split has an odd number of samples: a padded distributed sampler would count one twice
    assert len(build_dataset("digits", "test", time_steps=2)) % 2 == 1
    assert rows[-1]["val_acc"] > 0.5  # it learned something
    for split in ("val", "test"):
        whole = evaluate(run, split, which="last")
        assert rows[-1][f"{split}_acc"] == whole["acc"], split
        assert rows[-1][f"{split}_loss"] == pytest.approx(whole["loss"], rel=1e-5)

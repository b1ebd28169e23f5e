"""train(run_dir=...) trains in exactly that folder: new, resumed from its last checkpoint, or left as it is when finished."""

import json
import shutil

import pytest

from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.train import train
from tests.sweeps.sweeps import TINY, summary

pytestmark = pytest.mark.slow
QUICK = [f"{key}={json.dumps(value)}" for key, value in TINY.items() if key != "trainer.max_epochs"]


def _files(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "run.lock"}


def test_a_run_dir_is_made_then_left_alone_then_continued_for_more_epochs(tmp_path):
    folder = tmp_path / "sweep" / "tau=2.0,seed=1"
    one = load_config(None, [*QUICK, "trainer.max_epochs=1"])
    assert train(one, run_dir=folder).path == folder
    assert summary(folder)["status"] == "completed" and summary(folder)["resumed"] is False
    files = _files(folder)
    train(one, run_dir=folder)  # finished: nothing changes
    assert _files(folder) == files

    two = load_config(None, [*QUICK, "trainer.max_epochs=2"])
    train(two, run_dir=folder)
    assert [json.loads(line)["epoch"] for line in (folder / "metrics.jsonl").read_text().splitlines()] == [0, 1]
    assert summary(folder)["resumed"] is True and load_config(folder / "config.yaml").trainer.max_epochs == 2
    with pytest.raises(ConfigError, match=r"holds a run with another config \(it differs in optimizer\.lr\)"):
        train(load_config(None, [*QUICK, "trainer.max_epochs=2", "optimizer.lr=0.01"]), run_dir=folder)
    with pytest.raises(ConfigError, match="has finished 2 epochs; trainer.max_epochs=1 would drop"):
        train(one, run_dir=folder)
    with pytest.raises(ValueError, match="run_dir is the run's folder itself"):
        train(one, output_dir=tmp_path, run_dir=folder)


def test_a_run_dir_killed_before_its_first_checkpoint_or_before_saying_it_finished_ends_the_same(tmp_path):
    folder = tmp_path / "run"
    config = load_config(None, [*QUICK, "trainer.max_epochs=1"])
    train(config, run_dir=folder)
    metrics = (folder / "metrics.jsonl").read_bytes()

    shutil.rmtree(folder / "checkpoints")  # records of an epoch that was never checkpointed
    (folder / "summary.json").write_text(json.dumps({**summary(folder), "status": "running", "pid": 2**22 + 1}))
    train(config, run_dir=folder)
    assert (folder / "metrics.jsonl").read_bytes() == metrics and summary(folder)["resumed"] is False

    (folder / "summary.json").write_text(json.dumps({**summary(folder), "status": "running"}))  # killed after its last checkpoint
    files = _files(folder)
    train(config, run_dir=folder)
    assert summary(folder)["status"] == "completed"
    assert {p: b for p, b in _files(folder).items() if p.name != "summary.json"} == {p: b for p, b in files.items() if p.name != "summary.json"}

"""The Python API: spikedyn.train, spikedyn.load_run and a Run's config, records, network and evaluation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import spikedyn
from spikedyn.api import _config
from spikedyn.data import build_dataset
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.config.schema import ExperimentConfig

#: The offline digits run on a budget of seconds.
TINY = {"trainer": {"max_epochs": 1, "progress_bar": False}, "data": {"options": {"time_steps": 2}, "batch_size": 64},
        "records": {"tensorboard": False}, "model": {"options": {"fc_features": 64}}}  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> spikedyn.Run:
    """One tiny run trained through the API."""
    return spikedyn.train("digits", output_dir=str(tmp_path_factory.mktemp("api")), **TINY)


def test_train_returns_the_run_it_wrote(run: spikedyn.Run) -> None:
    assert (run.path / "config.yaml").is_file()
    assert run.summary["status"] == "completed" and run.summary["epochs_completed"] == 1
    assert run.config.trainer.max_epochs == 1 and run.config.model.options["fc_features"] == 64
    assert [row["epoch"] for row in run.records.history] == [0]


def test_load_run_evaluate_gives_the_accuracy_the_summary_reports(run: spikedyn.Run) -> None:
    loaded = spikedyn.load_run(run.path)
    assert loaded == run
    result = loaded.evaluate("test")
    assert result["acc"] == run.summary["protocol_B"]["test_acc"]
    assert result["samples"] == run.summary["split_sizes"]["test"]


def test_network_is_the_trained_one_in_eval_mode(run: spikedyn.Run) -> None:
    network = run.network()
    assert not network.training
    checkpoint = torch.load(run.checkpoint("best"), weights_only=True)
    for name, value in network.state_dict().items():
        assert torch.equal(value, checkpoint["state_dict"][f"network.{name}"])
    frames = torch.zeros(2, 3, 1, 8, 8)
    assert network(frames).shape == (2, 3, 10)


def test_resume_trains_on_with_the_new_schedule(run: spikedyn.Run) -> None:
    resumed = run.resume(trainer__max_epochs=3)
    rows = resumed.records.history
    assert [row["epoch"] for row in rows] == [0, 1, 2]
    # cosine over 3 epochs: epoch 1 trains at lr (1 + cos(pi/3)) / 2, not the 1-epoch schedule's 0
    assert rows[1]["lr/weights"] == pytest.approx(1e-3 * (1 + 0.5) / 2)
    with pytest.raises(ConfigError, match="optimizer.lr would change it"):
        run.resume(optimizer__lr=0.1)


def test_overrides_as_dunder_keywords_or_section_mappings_agree() -> None:
    a = _config("digits", {"trainer__max_epochs": 3, "model__neuron__tau": 4.0, "model__options__fc_features": 32})
    b = _config("digits", {"trainer": {"max_epochs": 3}, "model": {"neuron": {"tau": 4.0}, "options": {"fc_features": 32}}})
    c = load_config(Path(__file__).resolve().parents[1] / "configs" / "digits.yaml",
                    ["trainer.max_epochs=3", "model.neuron.tau=4.0", "model.options.fc_features=32"])  # fmt: skip
    assert a == b == c


def test_config_may_be_a_name_a_path_a_mapping_a_config_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ntrainer: {max_epochs: 2}\n")
    assert _config(path, {}).name == "mine"
    assert _config(str(path), {}).trainer.max_epochs == 2
    assert _config({"name": "from_dict"}, {}).name == "from_dict"
    assert _config(ExperimentConfig(name="built"), {"seed": 5}).seed == 5
    assert _config(None, {}) == load_config(None)
    with pytest.raises(TypeError, match="config must be a path"):
        _config(3, {})


def test_a_bad_override_names_its_key() -> None:
    with pytest.raises(ConfigError, match="trainer.max_epoch"):
        _config("digits", {"trainer__max_epoch": 3})
    with pytest.raises(ConfigError, match="trainer.max_epochs: must be an int >= 1"):
        _config("digits", {"trainer__max_epochs": 0})


def test_time_major_hands_networks_time_first() -> None:
    dataset = build_dataset("digits", "test", time_steps=3)
    loader = torch.utils.data.DataLoader(dataset, batch_size=5, collate_fn=spikedyn.time_major_collate)
    frames, labels = next(iter(loader))
    assert frames.shape == (3, 5, 1, 8, 8) and labels.shape == (5,)
    assert torch.equal(frames[:, 2], dataset[2][0])
    batch = torch.arange(24.0).reshape(2, 3, 4)
    assert torch.equal(spikedyn.time_major(batch), batch.transpose(0, 1))
    with pytest.raises(ValueError, match=r"\[B, T, \.\.\.\]"):
        spikedyn.time_major(torch.zeros(3))


def test_importing_spikedyn_loads_no_trainer() -> None:
    code = "import sys, spikedyn; spikedyn.Run, spikedyn.train, spikedyn.time_major; print('lightning' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False"]


def test_every_top_level_name_has_a_docstring_with_an_example() -> None:
    for name in ("train", "load_run", "Run", "time_major", "time_major_collate"):
        doc = getattr(spikedyn, name).__doc__
        assert doc and "Example" in doc, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        spikedyn.nothing  # noqa: B018

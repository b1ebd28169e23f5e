"""A spiking layer that fires no spike in a whole training epoch is reported, and the run goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikedyn.training.runs.divergence import divergence
from spikedyn.training.layer_stats import newly_silent, silent_layers
from tests.training.runs import cli, only_run


def test_a_lif_net_with_tau_16_lists_its_silent_layers(tmp_path: Path) -> None:
    # the issue's own example: the default digits run with LIF neurons of tau 16, one epoch
    result = cli("train", "model.neuron.kind=lif", "model.neuron.tau=16", "trainer.max_epochs=1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    run = only_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed"
    silent = summary["silent_layers"]
    assert silent and set(silent.values()) == {0}
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {key[len("train_rate/") :] for key, rate in rows[0].items() if key.startswith("train_rate/") and rate == 0.0} == set(silent)
    warning = [line for line in result.stderr.splitlines() if "fired no spike" in line]
    assert len(warning) == 1 and all(layer in warning[0] for layer in silent)
    assert "silent layers" in result.stdout


def test_a_run_that_fires_lists_no_silent_layer(tmp_path: Path) -> None:
    result = cli("train", "trainer.max_epochs=1", "data.options.time_steps=2", "trainer.progress_bar=false", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((only_run(tmp_path) / "summary.json").read_text())
    assert summary["silent_layers"] == {}
    assert "fired no spike" not in result.stderr


def test_silent_layers_name_the_first_silent_epoch() -> None:
    history = [
        {"epoch": 0, "train_rate/a": 0.1, "train_rate/b": 0.0},
        {"epoch": 1, "train_rate/a": 0.0, "train_rate/b": 0.2},
        {"epoch": 2, "train_rate/a": 0.0, "train_rate/b": 0.0},
    ]
    assert silent_layers(history) == {"a": 1, "b": 0}
    assert newly_silent(history[:1]) == ["b"]
    assert newly_silent(history[:2]) == ["a"]
    assert newly_silent(history) == ["b"]  # a stayed silent; b fell silent again


@pytest.mark.parametrize("key", ["rate/l1", "train_rate/l1"])
def test_a_layer_gone_silent_is_not_divergence(key: str) -> None:
    history = [{"epoch": 0, "train_loss": 0.5, key: 0.1}, {"epoch": 1, "train_loss": 0.4, key: 0.0}]
    assert divergence(history, {}) is None

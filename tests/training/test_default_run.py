"""The default run on a reduced budget: accuracy, records, checkpoints, evaluation."""

import math

import pytest
import torch

from spikedyn.data import build_dataset
from spikedyn.training.config import load_config
from spikedyn.training.evaluate import evaluate
from spikedyn.training.train import train

pytestmark = pytest.mark.slow
QUIET = ["trainer.progress_bar=false", "records.tensorboard=false"]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    config = load_config(None, [*QUIET, "trainer.max_epochs=3", "data.batch_size=32"])
    return train(config, output_dir=tmp_path_factory.mktemp("runs"))


def test_the_default_run_learns_the_digits(default_run):
    summary = default_run.summary()
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    # stated accuracy of the reduced default (3 of 30 epochs): at least 90% on the test split
    assert summary["protocol"] == "B" and "protocol_A" not in summary  # the default is protocol B, never called A
    assert summary["protocol_B"]["test_acc"] >= 0.90
    assert summary["max_test"]["test_acc"] >= summary["protocol_B"]["test_acc"]
    assert summary["split_sizes"] == {split: len(build_dataset("digits", split)) for split in ("train", "val", "test")}


def test_the_best_checkpoint_is_the_protocol_b_epoch_and_reloads_without_code(default_run):
    summary = default_run.summary()
    checkpoint = torch.load(default_run.best_checkpoint, weights_only=True)
    assert checkpoint["epoch"] == summary["protocol_B"]["epoch"]
    result = evaluate(default_run.path, "test", which="best")
    assert result["acc"] == summary["protocol_B"]["test_acc"] and result["samples"] == 359


def test_every_epoch_is_recorded_with_tau_firing_rates_and_learning_rates(default_run):
    lines = default_run.metrics_csv.read_text().splitlines()
    header = lines[0].split(",")
    assert len(lines) == 4
    for layer in ("features.1", "features.4", "classifier.3", "classifier.6"):
        assert {f"tau/{layer}/mean", f"tau/{layer}/std", f"tau/{layer}/min", f"tau/{layer}/max", f"rate/{layer}"} <= set(header)
    assert {"lr/weights", "lr/tau", "train_loss", "val_acc", "test_acc"} <= set(header)
    assert sorted(p.name for p in default_run.snapshots.iterdir()) == ["epoch_00000.pt", "epoch_00001.pt", "epoch_00002.pt"]
    assert (default_run.path / "environment.json").exists() and (default_run.path / "config.yaml").exists()


def test_per_neuron_tau_imp_and_chosen_weights_are_snapshotted_with_their_shapes(tmp_path):
    config = load_config(None, [
        *QUIET, "trainer.max_epochs=2", "data.batch_size=64", "data.options.time_steps=2",
        "model.neuron.tau_shape=neuron", "model.neuron.imp=neuron", "records.snapshot_every=2",
        "records.weights=[classifier.2.layer]", "regularizer.kind=variance", "regularizer.lam=0.01",
    ])  # fmt: skip
    run = train(config, output_dir=tmp_path)
    snapshots = sorted(run.snapshots.iterdir())
    assert [p.name for p in snapshots] == ["epoch_00000.pt", "epoch_00001.pt"]  # every 2nd epoch and the last
    tensors = torch.load(snapshots[-1], weights_only=True)["tensors"]
    checkpoint = torch.load(run.last_checkpoint, weights_only=True)["state_dict"]
    from spikedyn.training.evaluate import NETWORK_PREFIX

    network = {k[len(NETWORK_PREFIX):]: v for k, v in checkpoint.items() if k.startswith(NETWORK_PREFIX)}
    for name in ("features.1", "features.4", "classifier.3", "classifier.6"):
        a = network[f"{name}.tau_logit"]
        torch.testing.assert_close(tensors[f"tau/{name}"], 1 + torch.exp(-a))
        assert tensors[f"imp/{name}"].shape == a.shape == network[f"{name}.imp"].shape
    assert tensors["tau/features.1"].shape == (128, 8, 8)
    assert tensors["weight/classifier.2.layer"].shape == (2048, 512)
    row = run.summary()["last"]
    assert not math.isnan(row["train_loss"])
    header = run.metrics_csv.read_text().splitlines()[0].split(",")
    assert "train_penalty" in header and "imp/features.1/mean" in header




def test_bf16_mixed_precision_trains(tmp_path):
    config = load_config(None, [*QUIET, "trainer.max_epochs=1", "data.batch_size=64", "data.options.time_steps=2", "trainer.precision=bf16-mixed"])
    summary = train(config, output_dir=tmp_path).summary()
    assert summary["status"] == "completed" and math.isfinite(summary["last"]["train_loss"])


def test_the_eval_and_runs_commands_report_the_run(default_run, capsys):
    from spikedyn.cli import main

    assert main(["eval", str(default_run.path), "--split", "val", "--checkpoint", "last"]) == 0
    result = evaluate(default_run.path, "val", which="last")
    assert f"val accuracy {100 * result['acc']:.2f}%" in capsys.readouterr().out
    assert main(["runs", str(default_run.path.parent)]) == 0
    listed = capsys.readouterr().out
    assert str(default_run.path) in listed and "completed" in listed and "3/3" in listed

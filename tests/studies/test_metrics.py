"""The per-run quantities studies test claims on, read from a run's history."""

from pathlib import Path

import pytest

from spikedyn.analysis.run_records import RunRecords
from spikedyn.studies.metrics import epochs_to_train_accuracy, last_tau_statistic, mean_over_epochs


def records(history):
    return RunRecords(Path("/runs/r"), "r", history, {}, {})


def test_epochs_to_a_training_accuracy_are_interpolated_between_epochs():
    run = records([{"epoch": 0, "train_acc": 0.5}, {"epoch": 1, "train_acc": 0.8}, {"epoch": 2, "train_acc": 0.95}])
    # reached between 2 epochs (0.8) and 3 epochs (0.95) of training: 2 + (0.9 - 0.8) / (0.95 - 0.8)
    assert epochs_to_train_accuracy(run, 0.9) == pytest.approx(2 + 0.1 / 0.15)
    assert epochs_to_train_accuracy(run, 0.4) == 1.0
    assert epochs_to_train_accuracy(run, 0.99) is None


def test_means_over_epochs_are_the_area_under_the_curve_per_epoch():
    run = records([{"epoch": 0, "train_acc": 0.5, "train_loss": 2.0}, {"epoch": 1, "train_acc": 0.9, "train_loss": float("nan")}])
    assert mean_over_epochs(run, "train_acc", transform=1.0) == pytest.approx((0.5 + 0.1) / 2)
    assert mean_over_epochs(run, "train_loss") == 2.0, "a NaN epoch is skipped"
    assert mean_over_epochs(run, "val_loss") is None


def test_the_last_tau_statistic_is_averaged_over_layers():
    history = [{"epoch": 0, "tau/a/std": 0.5, "tau/b/std": 0.1}, {"epoch": 1, "tau/a/std": 0.3, "tau/b/std": 0.1, "tau/a/mean": 2.0}, {"epoch": 2}]
    assert last_tau_statistic(records(history), "std") == pytest.approx(0.2)
    assert last_tau_statistic(records(history), "mean") == 2.0
    assert last_tau_statistic(records([{"epoch": 0}]), "std") is None

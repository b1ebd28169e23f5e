"""Protocols A and B and the history files, on histories written by hand."""

import math

from spikedyn.training.protocols import protocol_a, protocol_b
from spikedyn.training.records import history_csv, tau_summary

HISTORY = [
    {"epoch": 0, "val_acc": 0.50, "test_acc": 0.55},
    {"epoch": 1, "val_acc": 0.80, "test_acc": 0.70},
    {"epoch": 2, "val_acc": 0.75, "test_acc": 0.90},
    {"epoch": 3, "val_acc": 0.80, "test_acc": 0.72},
]


def test_protocol_a_is_the_maximum_test_accuracy():
    assert protocol_a(HISTORY) == {"test_acc": 0.90, "epoch": 2}


def test_protocol_b_is_the_test_accuracy_at_the_best_validation_epoch_earliest_on_ties():
    assert protocol_b(HISTORY) == {"val_acc": 0.80, "test_acc": 0.70, "epoch": 1}


def test_protocols_without_the_splits_they_need():
    no_test = [{"epoch": 0, "val_acc": 0.5, "test_acc": math.nan}]
    assert protocol_a(no_test) is None
    b = protocol_b(no_test)
    assert b["epoch"] == 0 and b["val_acc"] == 0.5 and math.isnan(b["test_acc"])
    assert protocol_b([]) is None and protocol_a([]) is None


def test_history_csv_has_a_column_for_every_key_of_any_epoch():
    text = history_csv([{"epoch": 0, "a": 1}, {"epoch": 1, "a": 2, "tau/x/mean": 3.5}])
    assert text.splitlines() == ["epoch,a,tau/x/mean", "0,1,", "1,2,3.5"]


def test_tau_summary_reads_the_layer_means():
    row = {"tau/features.2/mean": 2.5, "tau/features.2/std": 0.1, "imp/features.2/mean": 0.0, "val_acc": 1.0}
    assert tau_summary(row) == {"features.2": 2.5}

"""Protocols A and B and the history files, on histories written by hand."""

import math

import pytest
import torch

from spikedyn.training.commands import format_summary
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.datamodule import SpikeDataModule
from spikedyn.training.evaluate import evaluate
from spikedyn.training.protocols import accuracy_lines, max_test_info, protocol_a, protocol_b, protocol_fields, reported
from spikedyn.training.runs.records import history_csv
from spikedyn.training.runs.summary import tau_summary
from spikedyn.training.train import train
from tests.training.runs import history

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


def test_protocol_fields_name_the_reported_accuracy_by_its_protocol():
    assert protocol_fields("A", HISTORY) == {"protocol": "A", "protocol_A": {"test_acc": 0.90, "epoch": 2}}
    b = protocol_fields("B", HISTORY)
    assert b == {"protocol": "B", "protocol_B": {"val_acc": 0.80, "test_acc": 0.70, "epoch": 1}, "max_test": {"test_acc": 0.90, "epoch": 2}}
    assert reported(b) == ("B", b["protocol_B"]) and max_test_info(b) == {"test_acc": 0.90, "epoch": 2}
    assert max_test_info(protocol_fields("A", HISTORY)) == {}


def test_a_summary_from_before_protocols_is_read_as_protocol_b_with_its_max_test_for_information():
    legacy = {"protocol_A": {"test_acc": 0.9, "epoch": 2}, "protocol_B": {"val_acc": 0.8, "test_acc": 0.7, "epoch": 1}}
    assert reported(legacy) == ("B", legacy["protocol_B"])
    assert max_test_info(legacy) == legacy["protocol_A"]
    labels = [label for label, _ in accuracy_lines(legacy)]
    assert labels[0].startswith("protocol B") and "not protocol A" in labels[1]


@pytest.mark.slow
def test_a_protocol_a_run_trains_on_the_whole_training_set_and_reports_its_best_test_epoch(tmp_path):
    quick = ["trainer.progress_bar=false", "records.tensorboard=false", "data.batch_size=64", "data.options.time_steps=2", "trainer.max_epochs=2"]
    run = train(load_config(None, [*quick, "protocol=A"]), output_dir=tmp_path / "a")
    summary = run.summary()
    b_sizes = SpikeDataModule(load_config(None, quick).data, 2020, "B").split_sizes()
    assert summary["protocol"] == "A" and "protocol_B" not in summary and "max_test" not in summary
    assert summary["split_sizes"] == {"train": b_sizes["train"] + b_sizes["val"], "val": 0, "test": b_sizes["test"]}
    rows = history(run.path)
    assert all("val_acc" not in row for row in rows) and summary["protocol_A"] == protocol_a(rows)
    assert torch.load(run.best_checkpoint, weights_only=True)["epoch"] == summary["protocol_A"]["epoch"]
    with pytest.raises(ValueError, match="no validation split"):
        evaluate(run.path, "val")
    assert evaluate(run.path, "test", which="best")["acc"] == summary["protocol_A"]["test_acc"]
    assert format_summary(summary).splitlines()[1].startswith("  protocol A (whole training set; maximum test accuracy)")


def test_protocol_a_refuses_what_would_make_it_something_else():
    with pytest.raises(ConfigError, match="data.test"):
        load_config(None, ["protocol=A", "data.test=false"])
    with pytest.raises(ConfigError, match="val_fraction"):
        load_config(None, ["protocol=A", "data.options.val_fraction=0.15"])
    with pytest.raises(ConfigError, match="protocol"):
        load_config(None, ["protocol=C"])

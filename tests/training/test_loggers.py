"""`trainer.loggers` chooses Lightning's TensorBoard, CSV, W&B and MLflow loggers; a missing package is named before the run."""

import csv
import importlib.util

import pytest

from spikedyn.cli import main
from spikedyn.training import loggers
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.loggers import LOGGER_NAMES, check_logger_packages, chosen_loggers, mlflow_tracking_uri
from tests.training.runs import FAST, only_run

QUICK = [option for option in FAST if not option.startswith("records.tensorboard")]


def _error(*overrides: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(None, list(overrides))
    return str(caught.value)


def test_unknown_and_repeated_logger_names_are_refused_listing_the_valid_ones():
    message = _error("trainer.loggers=[csv, tensorbord]")
    assert "trainer.loggers[1]" in message and "did you mean 'tensorboard'?" in message and "tensorboard, csv, wandb, mlflow" in message
    assert "named twice" in _error("trainer.loggers=[csv, csv]")
    assert set(LOGGER_NAMES) == {"tensorboard", "csv", "wandb", "mlflow"}


def test_tensorboard_is_the_default_and_records_tensorboard_false_still_turns_it_off():
    assert chosen_loggers(load_config()) == ["tensorboard"]
    assert chosen_loggers(load_config(None, ["records.tensorboard=false", "trainer.loggers=[tensorboard, csv]"])) == ["csv"]


def _missing(*modules: str):
    real = importlib.util.find_spec
    return lambda name, *args: None if name in modules else real(name, *args)


@pytest.mark.parametrize("tracker", ["wandb", "mlflow"])
def test_a_tracker_that_is_not_installed_is_named_with_its_extra_before_anything_is_written(tmp_path, capsys, monkeypatch, tracker):
    monkeypatch.setattr(loggers.importlib.util, "find_spec", _missing(tracker))
    assert main(["train", *QUICK, f"trainer.loggers=[csv, {tracker}]", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"'{tracker}' needs the {tracker} package" in err and "pip install 'spikedyn[trackers]'" in err
    assert not any(tmp_path.iterdir())


def test_mlflow_logs_beside_the_runs_unless_told_where(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert mlflow_tracking_uri(tmp_path) == f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setattr(loggers.importlib.util, "find_spec", _missing("sqlalchemy"))  # mlflow-skinny has no SQL store
    with pytest.raises(ConfigError, match="set MLFLOW_TRACKING_URI"):
        check_logger_packages(load_config(None, ["trainer.loggers=[mlflow]"]))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert mlflow_tracking_uri(tmp_path) == "http://tracking.example:5000"
    check_logger_packages(load_config(None, ["trainer.loggers=[mlflow]"]))


def _csv_epochs(run) -> list[int]:
    with (run / "csv" / "metrics.csv").open() as file:
        return [int(row["step"]) for row in csv.DictReader(file)]  # the recorder logs each epoch at step = epoch


@pytest.mark.slow
def test_csv_and_mlflow_hold_every_epoch_across_a_resume_that_adds_them(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")  # a local file store, offline
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks to opt in to its file store
    assert main(["train", *QUICK, "trainer.max_epochs=1", "trainer.loggers=[csv]", "--out", str(tmp_path / "runs")]) == 0
    run = only_run(tmp_path / "runs")
    assert _csv_epochs(run) == [0]
    assert main(["train", "--resume", str(run), "trainer.max_epochs=2", "trainer.loggers=[csv, mlflow]"]) == 0
    assert _csv_epochs(run) == [0, 1]  # Lightning's CSV logger starts its file anew: the resumed run logs epoch 0 again
    client = mlflow.tracking.MlflowClient(f"file:{tmp_path / 'mlruns'}")
    (logged,) = client.search_runs([client.get_experiment_by_name("digits").experiment_id])
    assert logged.data.tags["run_dir"] == str(run.absolute()) and logged.info.run_name == run.name
    assert [point.step for point in client.get_metric_history(logged.info.run_id, "val_acc")] == [0, 1]


@pytest.mark.slow
def test_wandb_logs_offline_into_the_run_folder(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    for place in ("CONFIG", "CACHE", "DATA"):  # nothing written outside tmp_path
        monkeypatch.setenv(f"WANDB_{place}_DIR", str(tmp_path / place.lower()))
    assert main(["train", *QUICK, "trainer.max_epochs=1", "trainer.loggers=[wandb]", "--out", str(tmp_path / "runs")]) == 0
    assert list((only_run(tmp_path / "runs") / "wandb").glob("offline-run-*"))

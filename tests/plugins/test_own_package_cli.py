"""A user's own network and dataset, by import path and by entry point, through every command of the workflow."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.plugins.own_package import DATASET, MODEL, config_text, write_package
from tests.training.runs import cli, history, only_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's package (registered by entry points too) and a config naming it by import path."""
    folder = write_package(tmp_path_factory.mktemp("user"), entry_points=True)
    (folder / "own.yaml").write_text(config_text())
    return folder


def user_cli(package: Path, *args: str):
    """``spikedyn ARGS`` with the user's package importable (PYTHONPATH), as an installed one would be."""
    path = os.pathsep.join(filter(None, [str(package), os.environ.get("PYTHONPATH")]))
    return cli(*args, env={"PYTHONPATH": path})


@pytest.fixture(scope="module")
def trained(package: Path) -> Path:
    """One run of the user's network on the user's data, trained for one epoch and resumed for a second."""
    out = package / "runs"
    first = user_cli(package, "train", "--config", str(package / "own.yaml"), "--out", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    run = only_run(out)
    resumed = user_cli(package, "train", "--resume", str(run), "trainer.max_epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return run


def test_a_users_network_and_data_train_and_resume_by_import_path(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_completed"] == 2
    assert [row["epoch"] for row in history(trained)] == [0, 1]
    assert set(summary["tau"]) == {"spikes1", "spikes2"}  # the user's PLIF layers, recorded as the packaged ones are
    assert summary["split_sizes"]["val"] > 0  # protocol B's validation split, carved by spikedyn from the user's train split


def test_eval_reports_the_accuracy_the_summary_reports(package: Path, trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    result = user_cli(package, "eval", str(trained), "--split", "test")
    assert result.returncode == 0, result.stderr[-2000:]
    shown = float(re.search(r"test accuracy ([0-9.]+)%", result.stdout).group(1))
    assert shown == pytest.approx(100 * summary["protocol_B"]["test_acc"], abs=0.005)


def test_report_energy_runs_and_export_work_on_the_users_run(package: Path, trained: Path) -> None:
    report = user_cli(package, "report", str(trained))
    assert report.returncode == 0, report.stderr[-2000:]
    assert (trained / "report.html").stat().st_size > 0
    energy = user_cli(package, "energy", str(trained), "--samples", "16")
    assert energy.returncode == 0 and "fc1.layer" in energy.stdout and "fc2.layer" in energy.stdout, energy.stderr[-2000:]
    runs = user_cli(package, "runs", str(package / "runs"))
    assert runs.returncode == 0 and "completed" in runs.stdout
    pytest.importorskip("nir")
    export = user_cli(package, "export", str(trained), "--format", "nir")  # no --out: RUN/model.nir
    assert export.returncode == 0, export.stderr[-2000:]
    assert (trained / "model.nir").is_file()


def test_a_sweep_over_two_seeds_trains_and_tables_the_users_run(package: Path) -> None:
    sweep = package / "seeds.yaml"
    sweep.write_text(json.dumps({"name": "own_seeds", "base": str(package / "own.yaml"), "seeds": [1, 2]}))
    out = package / "sweeps"
    ran = user_cli(package, "sweep", str(sweep), "--out", str(out))
    assert ran.returncode == 0, ran.stderr[-2000:]
    table = user_cli(package, "table", str(out / "own_seeds"))
    assert table.returncode == 0, table.stderr[-2000:]
    assert "(n=2)" in table.stdout


def test_a_sweep_with_several_bases_checks_every_run_of_the_users_config(package: Path) -> None:
    (package / "own_lif.yaml").write_text("extends: own.yaml\nmodel: {name: two_layer_plif, neuron: {kind: lif}}\n")
    sweep = package / "bases.yaml"
    sweep.write_text(json.dumps({"name": "own_bases", "bases": {"path": str(package / "own.yaml"), "entry": str(package / "own_lif.yaml")},
                                 "grid": {"model.options.hidden": [8, 16]}, "seeds": [1]}))  # fmt: skip
    result = user_cli(package, "sweep", str(sweep), "--dry-run", "--out", str(package / "dry"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("hidden") >= 4


def test_entry_point_names_train_like_import_paths(package: Path) -> None:
    out = package / "by_name"
    result = user_cli(package, "train", "--config", str(package / "own.yaml"), "model.name=two_layer_plif",
                      "data.dataset=digit_features", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    config = (only_run(out) / "config.yaml").read_text()
    assert "name: two_layer_plif" in config and "dataset: digit_features" in config


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.name=userpkg.nothere:Net", "model 'userpkg.nothere:Net': no module named 'userpkg.nothere'"),
        ("model.name=userpkg.models:Missing", "model 'userpkg.models:Missing': userpkg.models"),
        ("model.name=userpkg.models:NOT_A_MODEL", "userpkg.models:NOT_A_MODEL is a int, not a callable"),
        ("data.dataset=userpkg.data:Nope", "dataset 'userpkg.data:Nope'"),
        ("model.name=no_such_entry_point", "unknown model 'no_such_entry_point'"),
    ],
)
def test_a_name_that_is_not_there_is_one_line_naming_what_was_looked_for(package: Path, override: str, message: str) -> None:
    result = user_cli(package, "train", "--config", str(package / "own.yaml"), override, "--print-config")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr

"""``spikedyn export``: a run folder or checkpoint to a NIR file, and its errors in one line each."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import nir
import numpy as np
import pytest
import torch

from spikedyn.cli import main
from spikedyn.data import build_dataset
from spikedyn.training.config import config_to_dict, load_config
from spikedyn.training.factories import build_model_from_config
from spikedyn.training.runs.folder import RunFolder

#: The digits default, small: T=2, FC16, one log-normal tau per neuron.
TINY = ["data.options.time_steps=2", "model.options.fc_features=16", "model.neuron.tau_shape=neuron",
        "model.neuron.tau_init=lognormal", "model.neuron.tau_std=1.0"]  # fmt: skip


def make_run(folder: Path, overrides: list[str] = (), checkpoints: tuple[str, ...] = ("best", "last")) -> Path:
    """A run folder with its config and the given checkpoints of an untrained network, as training writes them."""
    config = load_config(None, [*TINY, *overrides])
    info = build_dataset(config.data.dataset, "test", **config.data.options).info
    torch.manual_seed(0)
    network = build_model_from_config(config, info)
    run = RunFolder.create(config, folder)
    run.checkpoints.mkdir()
    checkpoint = {"hyper_parameters": {"config": config_to_dict(config), "info": asdict(info)},
                  "state_dict": {f"network.{k}": v for k, v in network.state_dict().items()}}  # fmt: skip
    for which in checkpoints:
        torch.save(checkpoint, run.checkpoints / f"{which}.ckpt")
    return run.path


def export(*args: str) -> int:
    return main(["export", *args])


def test_a_run_is_written_as_a_nir_file_with_its_per_neuron_tau(tmp_path, capsys):
    run = make_run(tmp_path / "runs")
    out = tmp_path / "digits.nir"
    assert export(str(run), "--format", "nir", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}: 14 NIR nodes from {run / 'checkpoints' / 'best.ckpt'}") and "(exact)" in printed
    graph = nir.read(out)
    lifs = [node for node in graph.nodes.values() if isinstance(node, nir.LIF)]
    assert len(lifs) == 4 and all(np.unique(node.tau).size > node.tau.size // 2 for node in lifs)  # per neuron, not per layer
    assert graph.metadata["dt"] == 1e-4 and graph.nodes["input"].input_type["input"].tolist() == [1, 8, 8]


def test_the_last_checkpoint_and_a_checkpoint_file_export_too(tmp_path, capsys):
    run = make_run(tmp_path / "runs", checkpoints=("last",))
    assert export(str(run), "--format", "nir", "--out", str(tmp_path / "a.nir"), "--checkpoint", "last", "--dt", "1e-3") == 0
    assert export(str(run / "checkpoints" / "last.ckpt"), "--format", "nir", "--out", str(tmp_path / "b.nir")) == 0
    assert nir.read(tmp_path / "a.nir").metadata["dt"] == 1e-3 and (tmp_path / "b.nir").is_file()


def test_without_out_a_run_exports_into_its_folder_and_a_checkpoint_beside_itself(tmp_path, capsys):
    run = make_run(tmp_path / "runs")
    assert export(str(run), "--format", "nir") == 0
    assert capsys.readouterr().out.startswith(f"wrote {run / 'model.nir'}:")
    assert export(str(run / "checkpoints" / "last.ckpt"), "--format", "nir") == 0
    assert nir.read(run / "checkpoints" / "last.nir").nodes.keys() == nir.read(run / "model.nir").nodes.keys()


def test_best_of_a_run_without_one_is_a_one_line_error(tmp_path, capsys):
    run = make_run(tmp_path / "runs", checkpoints=("last",))
    assert export(str(run), "--format", "nir", "--out", str(tmp_path / "x.nir")) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikedyn export: run ") and "has no best checkpoint" in err and err.count("\n") == 1
    assert not (tmp_path / "x.nir").exists()


def test_a_missing_path_is_a_one_line_error(tmp_path, capsys):
    assert export(str(tmp_path / "nowhere"), "--format", "nir", "--out", str(tmp_path / "x.nir")) == 2
    assert capsys.readouterr().err == f"spikedyn export: no checkpoint at {tmp_path / 'nowhere'}\n"


def test_an_unknown_format_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        export(str(tmp_path), "--format", "onnx", "--out", str(tmp_path / "x.onnx"))
    assert exit_info.value.code == 2 and "invalid choice: 'onnx'" in capsys.readouterr().err


def test_a_bad_dt_is_a_one_line_error(tmp_path, capsys):
    run = make_run(tmp_path / "runs")
    assert export(str(run), "--format", "nir", "--out", str(tmp_path / "x.nir"), "--dt", "0") == 2
    assert "dt (the time one spikedyn step stands for) must be a finite number > 0" in capsys.readouterr().err


def test_soft_reset_is_refused_by_layer_and_exported_with_approximate(tmp_path, capsys):
    run = make_run(tmp_path / "runs", ["model.neuron.v_reset=null"])
    out = tmp_path / "soft.nir"
    assert export(str(run), "--format", "nir", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(f"{layer} (PLIF): soft reset" in err for layer in ("features.1", "features.4", "classifier.3", "classifier.6"))
    assert "--approximate" in err and not out.exists()
    assert export(str(run), "--format", "nir", "--out", str(out), "--approximate") == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert [line.split(" (")[0] for line in lines[:4]] == [f"approximated: {layer}" for layer in ("features.1", "features.4", "classifier.3", "classifier.6")]
    assert "exported with a hard reset to 0" in lines[0] and lines[4].endswith("(approximate)") and printed.err == ""
    assert "soft reset" in nir.read(out).metadata["approximations"]

"""Mistakes in a training command get a clear message and leave no run folder behind; bugs keep their traceback."""

import os
import urllib.error
import urllib.request

import pytest
import torch
from lightning.pytorch.accelerators import CUDAAccelerator, MPSAccelerator, XLAAccelerator

from spikedyn.cli import main
from spikedyn.training import train as train_module


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_an_unknown_config_key_names_it_and_the_nearest_valid_one(tmp_path, capsys):
    code, err = _run(capsys, "train", "trainer.max_epoch=3", "--out", str(tmp_path))
    assert code == 2
    assert "trainer.max_epoch" in err and "trainer.max_epochs" in err
    assert not any(tmp_path.iterdir())


def test_a_missing_dataset_says_where_to_put_it_and_writes_nothing(tmp_path, capsys):
    code, err = _run(capsys, "train", "data.dataset=nmnist", "model.name=plifnet_nmnist", f"data.options.root={tmp_path / 'data'}", "--out", str(tmp_path / "runs"))
    assert code == 2
    assert "nmnist was not found" in err and "download=True" in err
    assert not (tmp_path / "runs").exists()


def test_resuming_something_that_is_not_a_run(tmp_path, capsys):
    code, err = _run(capsys, "train", "--resume", str(tmp_path))
    assert code == 2 and "is not a spikedyn run folder" in err


def test_a_resumed_run_refuses_config_changes_other_than_more_epochs(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("name: x\n")
    code, err = _run(capsys, "train", "--resume", str(tmp_path), "optimizer.lr=0.1")
    assert code == 2 and "optimizer.lr would change it" in err and "trainer.max_epochs" in err


def test_eval_of_a_missing_checkpoint(tmp_path, capsys):
    code, err = _run(capsys, "eval", str(tmp_path / "nothing.ckpt"))
    assert code == 2 and "no checkpoint at" in err


# ------------------------------------------------------------------ a failed start: one line, exit 2, no run folder


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("spikedyn train: ") and "Traceback" not in err


def test_an_unreadable_config_is_one_line(tmp_path, capsys):
    code, err = _run(capsys, "train", "--config", str(tmp_path), "--out", str(tmp_path / "runs"))  # a folder
    assert code == 2 and _one_line(err) and f"cannot read {tmp_path}" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_config_without_read_permission_is_one_line(tmp_path, capsys):
    config = tmp_path / "secret.yaml"
    config.write_text("name: x\n")
    config.chmod(0)
    code, err = _run(capsys, "train", "--config", str(config), "--out", str(tmp_path / "runs"))
    assert code == 2 and _one_line(err) and f"cannot read {config}" in err and "ermission" in err
    assert not (tmp_path / "runs").exists()


def test_a_config_that_is_not_utf8_is_one_line_naming_it(tmp_path, capsys):
    config = tmp_path / "utf16.yaml"
    config.write_text("name: x\n", encoding="utf-16")
    code, err = _run(capsys, "train", "--config", str(config), "--out", str(tmp_path / "runs"))
    assert code == 2 and _one_line(err) and f"{config}: not UTF-8" in err
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def no_accelerators(monkeypatch):
    """This machine, whatever it has, seen as one with no CUDA, MPS or TPU device."""
    for accelerator in (CUDAAccelerator, MPSAccelerator, XLAAccelerator):
        monkeypatch.setattr(accelerator, "is_available", staticmethod(lambda: False))


@pytest.mark.parametrize("accelerator", ["gpu", "cuda", "tpu"])
def test_an_accelerator_the_machine_lacks_is_refused_before_anything_is_written(tmp_path, capsys, no_accelerators, accelerator):
    code, err = _run(capsys, "train", f"trainer.accelerator={accelerator}", "--out", str(tmp_path))
    assert code == 2 and _one_line(err)
    assert f"trainer.accelerator: {accelerator!r} asks for a device this machine does not have (usable here: cpu)" in err
    assert f"with overrides trainer.accelerator={accelerator}" in err  # where the value came from
    assert not any(tmp_path.iterdir())


def test_more_gpus_than_the_machine_has_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(CUDAAccelerator, "is_available", staticmethod(lambda: True))
    monkeypatch.setattr(CUDAAccelerator, "auto_device_count", staticmethod(lambda: 1))
    code, err = _run(capsys, "train", "trainer.accelerator=gpu", "trainer.devices=4", "--out", str(tmp_path))
    assert code == 2 and _one_line(err) and "trainer.devices: 4 gpu devices asked for, but this machine has 1" in err
    assert not any(tmp_path.iterdir())


def test_an_unknown_accelerator_names_the_valid_ones(tmp_path, capsys):
    code, err = _run(capsys, "train", "trainer.accelerator=gpus", "--out", str(tmp_path))
    assert code == 2 and "trainer.accelerator: 'gpus' is not one of" in err and "did you mean 'gpu'" in err
    assert not any(tmp_path.iterdir())


def test_a_download_without_network_is_one_line(tmp_path, capsys, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    code, err = _run(capsys, "train", "data.dataset=mnist", f"data.options.root={tmp_path / 'data'}", "data.options.download=true", "--out", str(tmp_path / "runs"))
    assert code == 2 and _one_line(err)
    assert "download" in err and "Temporary failure in name resolution" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("bug", [lambda: torch.zeros(2) @ torch.zeros(3), lambda: {}["missing"], lambda: int("x")])
def test_a_bug_keeps_its_traceback(tmp_path, monkeypatch, bug):
    def broken_train(*args, **kwargs):
        bug()

    monkeypatch.setattr(train_module, "train", broken_train)
    with pytest.raises((RuntimeError, KeyError, ValueError)):
        main(["train", "--out", str(tmp_path)])


def test_resume_with_a_config_is_refused_not_ignored(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("name: x\n")
    code, err = _run(capsys, "train", "--resume", str(tmp_path), "--config", "digits")
    assert code == 2
    assert f"--resume {tmp_path} continues that run with its own config" in err and "--config digits cannot change it" in err

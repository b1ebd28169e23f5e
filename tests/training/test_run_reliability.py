"""Runs that end early or move keep true records: checksums, locks, resumes, full disks, divergence."""

import errno
import json
import os
import shutil
import zipfile

import pytest
import torch

from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.runs.checkpoint import load_checkpoint
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.runs.divergence import Diverged, divergence
from spikedyn.training.runs.lock import RunInUse, RunLock
from spikedyn.training.runs.stops import DiskFull
from spikedyn.training.train import train

QUICK = ["trainer.progress_bar=false", "records.tensorboard=false", "data.batch_size=64", "data.options.time_steps=2"]


def test_files_written_atomically_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        path = write_bytes_atomically(tmp_path / "summary.json", b"{}")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_checkpoint_with_a_flipped_byte_is_an_error_naming_it(tmp_path):
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.arange(4096.0)}, "epoch": 3}, path)
    assert load_checkpoint(path)["epoch"] == 3
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        member = next(info for info in archive.infolist() if info.file_size > 1000)
    data[member.header_offset + 200] ^= 0x10  # inside the stored tensor bytes: torch.load alone would not notice
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"checkpoint {path} is damaged.*CRC"):
        load_checkpoint(path)


def test_a_second_process_cannot_claim_a_run_folder_in_use(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunInUse, match=rf"{tmp_path} is in use.*\"pid\": {os.getpid()}"):
            with RunLock(tmp_path):
                pass
    with RunLock(tmp_path):  # released with its holder
        pass


def test_divergence_names_the_epoch_and_what_diverged():
    finite = {"w": torch.ones(3)}
    assert divergence([{"epoch": 0, "train_loss": 0.5, "rate/l1": 0.1}], finite) is None
    assert "epoch 2: the training loss is nan" in divergence([{"epoch": 2, "train_loss": float("nan")}], finite)
    assert "parameter w holds non-finite" in divergence([{"epoch": 1, "train_loss": 0.1}], {"parameter w": torch.tensor([1.0, float("inf")])})
    # a layer gone silent is reported (tests/training/test_silent_layers.py), not divergence


@pytest.mark.slow
def test_a_diverging_run_stops_before_its_weights_are_checkpointed(tmp_path, monkeypatch):
    from spikedyn.training.module import SpikingClassifier

    step = SpikingClassifier.training_step
    monkeypatch.setattr(SpikingClassifier, "training_step",
                        lambda self, batch, i: step(self, batch, i) * (float("nan") if self.current_epoch == 1 else 1.0))  # fmt: skip
    with pytest.raises(Diverged, match="diverged at epoch 1: parameter .* holds non-finite values"):
        train(load_config(None, [*QUICK, "trainer.max_epochs=3"]), output_dir=tmp_path)
    run = next(tmp_path.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and "epoch 1" in summary["error"]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 0
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [0, 1]


@pytest.mark.slow
def test_a_moved_run_keeps_its_best_score_and_a_finished_run_resumed_changes_nothing(tmp_path, capsys):
    frozen = [*QUICK, "optimizer.lr=1e-12", "optimizer.tau_lr=0"]  # nothing changes, so only epoch 0 is a best
    run = train(load_config(None, [*frozen, "trainer.max_epochs=2"]), output_dir=tmp_path / "here")
    moved = shutil.move(str(run.path), tmp_path / "there")
    train(load_config(None, [*frozen, "trainer.max_epochs=3"]), resume=moved)
    assert torch.load(f"{moved}/checkpoints/best.ckpt", weights_only=True)["epoch"] == 0  # not epoch 2, equal but not better
    assert torch.load(f"{moved}/checkpoints/last.ckpt", weights_only=True)["epoch"] == 2

    files = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and p.name != "run.lock"}
    capsys.readouterr()
    train(load_config(None, [*frozen, "trainer.max_epochs=3"]), resume=moved)
    assert "has already finished its 3 epochs: nothing to train" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and p.name != "run.lock"} == files
    with pytest.raises(ConfigError, match="has finished 3 epochs; trainer.max_epochs=2 would drop"):
        train(load_config(None, [*frozen, "trainer.max_epochs=2"]), resume=moved)


@pytest.mark.drill
def test_a_full_disk_leaves_no_partial_checkpoint_and_says_where(tmp_path, monkeypatch):
    import lightning.pytorch as pl

    def save_half_then_fill_the_disk(self, filepath, weights_only=False, storage_options=None):
        os.makedirs(os.path.dirname(filepath), exist_ok=True)
        with open(filepath, "wb") as file:
            file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device", str(filepath))

    monkeypatch.setattr(pl.Trainer, "save_checkpoint", save_half_then_fill_the_disk)
    with pytest.raises(DiskFull, match=rf"no space left on the device of {tmp_path}.*MiB free"):
        train(load_config(None, [*QUICK, "trainer.max_epochs=2"]), output_dir=tmp_path)
    run = next(tmp_path.iterdir())
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "no space left" in summary["error"]


@pytest.mark.drill
def test_a_killed_holders_forked_children_do_not_keep_its_run_locked(tmp_path):
    """DataLoader workers are forked from the trainer: when it is killed, its folder must be free at once."""
    import multiprocessing
    import signal
    import time

    def hold_and_fork(folder, ready):
        with RunLock(folder):
            worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,), daemon=False)
            worker.start()
            (folder / "worker.pid").write_text(str(worker.pid))
            ready.set()
            time.sleep(60)

    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=hold_and_fork, args=(tmp_path, ready))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(RunInUse):
        with RunLock(tmp_path):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    worker = int((tmp_path / "worker.pid").read_text())
    try:
        os.kill(worker, 0)  # the orphaned child is still alive...
        with RunLock(tmp_path):  # ...and the folder is free
            pass
    finally:
        os.kill(worker, signal.SIGKILL)

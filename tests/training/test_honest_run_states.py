"""Honest run states (issue 19, items 5-8): divergence however it shows, a replaced config, a damaged summary or checkpoint."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from spikedyn.training.runs.checkpoint import load_checkpoint
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.runs.divergence import Diverged, check_step_loss, divergence
from spikedyn.training.runs.digest import experiment_digest
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.train import train
from tests.training.runs import FAST, cli

pytestmark = pytest.mark.drill


def test_a_learning_rate_of_1e30_ends_diverged_not_completed(tmp_path: Path) -> None:
    # before: "completed" with tau = inf in three layers and BatchNorm running_var = inf in the checkpoint
    with pytest.raises(Diverged, match="running_var holds non-finite values|tau/.* is inf|the training loss is"):
        train(load_config(None, [*FAST, "optimizer.lr=1e30", "trainer.max_epochs=3"]), output_dir=tmp_path)
    run = RunFolder(next(tmp_path.iterdir()))
    assert run.summary()["status"] == "diverged"
    assert not run.last_checkpoint.exists()  # the diverged weights were never checkpointed


def test_divergence_looks_at_buffers_and_learned_quantities_too() -> None:
    row = [{"epoch": 4, "train_loss": 0.1, "tau/features.1/mean": float("inf")}]
    assert divergence(row, {}) == "epoch 4: tau/features.1/mean is inf"
    assert divergence([{"epoch": 1, "train_loss": 0.1}], {"buffer bn.running_var": torch.tensor([1.0, float("inf")])}) == (
        "epoch 1: buffer bn.running_var holds non-finite values"
    )
    assert divergence([{"epoch": 1, "train_loss": 0.1}], {"buffer bn.num_batches_tracked": torch.tensor(3)}) is None
    assert divergence([{"epoch": 0, "train_loss": 0.1, "train_penalty": float("nan")}], {}) == "epoch 0: the training tau penalty is nan"


def test_a_non_finite_loss_stops_the_run_at_that_step() -> None:
    check_step_loss(torch.tensor(0.5), 0, 0)
    with pytest.raises(Diverged, match="epoch 2, step 7: the training loss is inf"):
        check_step_loss(torch.tensor(float("inf")), 2, 7)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of two epochs, trained once for the tests that damage copies of it."""
    out = tmp_path_factory.mktemp("finished")
    return train(load_config(None, [*FAST, "trainer.max_epochs=2"]), output_dir=out).path


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, tmp_path / run.name))


def test_the_checkpoint_names_its_experiment_by_a_digest(finished_run: Path) -> None:
    checkpoint = load_checkpoint(finished_run / "checkpoints" / "last.ckpt")
    config = RunFolder(finished_run).config()
    assert checkpoint["spikedyn"]["config_digest"] == experiment_digest(config)
    longer = load_config(finished_run / "config.yaml", ["trainer.max_epochs=9", "trainer.loggers=[]"])
    assert experiment_digest(longer) == experiment_digest(config)  # what a resume may change is not the experiment
    assert experiment_digest(load_config(finished_run / "config.yaml", ["seed=3"])) != experiment_digest(config)


def test_a_replaced_config_yaml_is_refused_on_resume_naming_the_keys(finished_run: Path, tmp_path: Path) -> None:
    run = _copy(finished_run, tmp_path)
    replaced = load_config(run / "config.yaml", ["optimizer.lr=0.02", "model.neuron.tau=4.0"])
    from spikedyn.training.config import save_config

    save_config(replaced, run / "config.yaml")
    result = cli("train", "--resume", str(run), "trainer.max_epochs=3")
    assert result.returncode == 2
    assert "was trained with another config" in result.stderr and "model.neuron.tau, optimizer.lr" in result.stderr
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2  # nothing trained


@pytest.mark.parametrize("damage", ['{"status": "comp', "", "[1, 2]", "\xff\xfe"], ids=["cut", "empty", "list", "not-utf8"])
def test_a_damaged_summary_is_rebuilt_from_the_records_and_said(finished_run: Path, tmp_path: Path, damage: str) -> None:
    run = _copy(finished_run, tmp_path)
    original = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_bytes(damage.encode("latin-1"))
    result = cli("train", "--resume", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "summary.json was damaged" in result.stderr and "rebuilt from its records" in result.stderr
    assert "run None" not in result.stdout and "run digits: completed after 2 epochs" in result.stdout
    rebuilt = json.loads((run / "summary.json").read_text())
    for key in ("status", "epochs_completed", "protocol_B", "max_test", "tau", "silent_layers", "name"):
        assert rebuilt[key] == original[key], key


def test_a_summary_that_cannot_be_rebuilt_is_refused_clearly(finished_run: Path, tmp_path: Path) -> None:
    run = _copy(finished_run, tmp_path)
    (run / "summary.json").write_text("{")
    (run / "metrics.jsonl").write_text("not json\n")
    result = cli("train", "--resume", str(run))
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "summary.json was damaged" in line and "cannot be rebuilt" in line and "Traceback" not in result.stderr


def _flipped(data: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def test_every_single_bit_flip_of_a_checkpoints_zip_records_is_a_one_line_error(tmp_path: Path) -> None:
    # before: a flipped compression method (NotImplementedError), flag bit (NotImplementedError, RuntimeError) or
    # end-of-archive disk number (BadZipFile from zipfile.is_zipfile, outside the error handling) ended in tracebacks
    path = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"w": torch.arange(512.0), "b": torch.ones(3)}, "epoch": 3}, path)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        headers = [(info.header_offset, 30 + len(info.filename.encode())) for info in archive.infolist()]
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(b"PK\x05\x06"))
    central = min(data.index(b"PK\x01\x02"), central)
    positions = sorted({p for start, size in headers for p in range(start, start + size)} | set(range(central, len(data))))
    outcomes = {"loaded": 0, "refused": 0}
    damaged = tmp_path / "damaged.ckpt"
    for position in positions:
        for bit in (position % 8, (position * 5 + 3) % 8):  # two of each byte's bits, all eight over neighbouring bytes
            damaged.write_bytes(_flipped(data, position, bit))
            try:
                load_checkpoint(damaged)
            except ValueError as error:
                message = str(error)
                assert message.startswith(f"checkpoint {damaged}") and "\n" not in message, message
                outcomes["refused"] += 1
            else:
                outcomes["loaded"] += 1  # a flip in a field nothing reads (a time stamp, an unused version byte)
    assert outcomes["refused"] > outcomes["loaded"] > 0


def test_a_run_whose_folder_is_deleted_stops_without_recreating_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from spikedyn.training.runs.records import RunRecorder
    from spikedyn.training.runs.lock import RunFolderLost

    folder = tmp_path / "run"

    def delete_in_epoch_1(self, trainer, module) -> None:
        if trainer.current_epoch == 1:
            shutil.rmtree(self.run.path)

    monkeypatch.setattr(RunRecorder, "on_train_epoch_start", delete_in_epoch_1, raising=False)
    with pytest.raises(RunFolderLost, match="was deleted or moved while this process trained in it"):
        train(load_config(None, [*FAST, "trainer.max_epochs=3"]), run_dir=folder)
    assert not folder.exists()  # not recreated with a summary, metrics or checkpoints of its own


def test_table_names_the_runs_of_a_sweep_that_are_missing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from spikedyn.cli import main
    from spikedyn.training.runs.listing import STARTED

    sweep = tmp_path / "sweep"
    (sweep / STARTED).mkdir(parents=True)
    (sweep / STARTED / "seed=2").write_text("")  # started by the sweep, its folder since deleted
    kept = train(load_config(None, [*FAST, "trainer.max_epochs=1"]), run_dir=sweep / "seed=1").path
    (sweep / STARTED / "seed=1").write_text("")
    assert kept.exists()
    assert main(["table", str(sweep)]) == 0
    captured = capsys.readouterr()
    assert "Missing: 1 run(s) that a sweep started are not in the table" in captured.out and "sweep/seed=2" in captured.out
    assert "(n=1)" in captured.out and "missing" in captured.err

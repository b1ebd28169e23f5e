"""Runs are never silently wrong: NaN losses show, schedules follow the config, job folders are not overwritten."""

import pytest
import torch

from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.datamodule import EpochShuffleSampler, SpikeDataModule
from spikedyn.training.factories import build_scheduler
from spikedyn.training.module import SplitMetrics
from spikedyn.training.train import train

QUICK = ["trainer.progress_bar=false", "records.tensorboard=false", "data.batch_size=64", "data.options.time_steps=2"]


def test_a_nan_loss_makes_the_epoch_loss_nan_and_the_mean_is_weighted_by_batch_size():
    metrics = SplitMetrics()
    labels = torch.tensor([0, 1, 1])
    metrics.update(torch.tensor(1.0), labels, labels)
    metrics.update(torch.tensor(3.0), labels[:1], labels[:1])
    loss, accuracy = metrics.compute_and_reset()
    assert loss == pytest.approx((1.0 * 3 + 3.0 * 1) / 4) and accuracy == 1.0
    metrics.update(torch.tensor(float("nan")), labels, labels)
    loss, _ = metrics.compute_and_reset()
    assert loss != loss


def test_a_resumed_schedule_follows_the_new_max_epochs_not_the_checkpoint():
    config = load_config(None, ["trainer.max_epochs=2"])
    model = torch.nn.Linear(2, 2)
    old = build_scheduler(config, torch.optim.Adam(model.parameters(), lr=1e-3), max_epochs=2)
    old.optimizer.step()
    old.step()
    state = old.state_dict()
    longer = build_scheduler(config, torch.optim.Adam(model.parameters(), lr=1e-3), max_epochs=5)
    longer.load_state_dict(state)
    # cosine over 5 epochs at epoch 1: (1 + cos(pi / 5)) / 2 of the base rate, not the 2-epoch value 0.5
    import math

    assert longer.lr_lambdas[0](1) == pytest.approx((1 + math.cos(math.pi / 5)) / 2)


@pytest.mark.parametrize("length, world", [(1, 4), (5, 4), (8, 3)])
def test_every_process_gets_the_same_number_of_training_samples(length, world):
    shares = [list(EpochShuffleSampler(length, seed=1, rank=rank, world_size=world)) for rank in range(world)]
    assert {len(share) for share in shares} == {len(EpochShuffleSampler(length, 1, 0, world))}
    assert set().union(*map(set, shares)) == set(range(length))


def test_training_workers_are_started_afresh_every_epoch():
    config = load_config(None, ["data.num_workers=2"])
    data = SpikeDataModule(config.data, config.seed)
    assert data.train_dataloader().persistent_workers is False
    assert all(loader.persistent_workers for loader in data.val_dataloader())


@pytest.mark.slow
def test_a_requeued_job_continues_its_folder_and_another_config_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    config = load_config(None, [*QUICK, "trainer.max_epochs=2"])
    first = train(config, output_dir=tmp_path)
    assert first.path.name == "digits-job4242"
    history = first.metrics_jsonl.read_text()
    again = train(config, output_dir=tmp_path)  # the requeued job: same folder, nothing left to train
    assert again.path == first.path and again.summary()["resumed"] is True
    assert again.metrics_jsonl.read_text() == history
    with pytest.raises(ConfigError, match="another config"):
        train(load_config(None, [*QUICK, "trainer.max_epochs=2", "optimizer.lr=0.01"]), output_dir=tmp_path)


def test_torchruns_placeholder_job_id_is_not_a_job(tmp_path, monkeypatch):
    from spikedyn.training.train import _job_id

    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "none")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert _job_id() is None


def test_sync_batchnorm_with_tebn_is_refused(tmp_path):
    config = load_config(None, [*QUICK, "model.name=vgg11_imp", "model.neuron.kind=lif", "model.neuron.tau=1.5",
                                "data.options.upscale=2", "trainer.sync_batchnorm=true"])  # fmt: skip
    with pytest.raises(ConfigError, match="TEBN"):
        train(config, output_dir=tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_last_checkpoint_holds_the_last_epoch_even_when_validation_stops_improving(tmp_path):
    """With a learning rate too small to change anything, only epoch 0 is a best; last.ckpt is still epoch 2."""
    run = train(load_config(None, [*QUICK, "trainer.max_epochs=3", "optimizer.lr=1e-12", "optimizer.tau_lr=0"]), output_dir=tmp_path)
    best = torch.load(run.best_checkpoint, weights_only=True)
    last = torch.load(run.last_checkpoint, weights_only=True)
    assert best["epoch"] == 0 and last["epoch"] == 2

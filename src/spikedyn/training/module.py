"""The LightningModule: a network, its loss and tau regulariser, and the metrics of every epoch."""

from __future__ import annotations

import contextlib
import random
from dataclasses import asdict
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn
from torchmetrics import MeanMetric, SumMetric

from spikedyn.data.base import DatasetInfo
from spikedyn.memory import compact_activations
from spikedyn.training.config import config_to_dict
from spikedyn.training.factories import (
    ConfigLambdaLR,
    build_loss,
    build_model_from_config,
    build_optimizer,
    build_regularizer,
    build_scheduler,
)
from spikedyn.training.runs.divergence import check_step_loss
from spikedyn.training.runs.digest import CHECKPOINT_KEY, experiment_digest
from spikedyn.training.layer_stats import (
    TRAIN_RATE,
    FiringRateMonitor,
    neuron_snapshot,
    neuron_statistics,
)
from spikedyn.training.protocols import SELECTED_BY
from spikedyn.training.config.schema import ExperimentConfig


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The seed of one epoch on one process: runs resumed at any epoch draw the same numbers."""
    return (seed * 1_000_003 + epoch * 1_009 + rank) % (2**32)


class SplitMetrics(nn.Module):
    """Mean loss and exact accuracy counts of one split, summed over all processes."""

    def __init__(self) -> None:
        super().__init__()
        # sums, not MeanMetric: a NaN loss must show as NaN rather than be dropped from the mean
        self.loss_sum, self.correct, self.total = SumMetric(nan_strategy="disable"), SumMetric(), SumMetric()

    def update(self, loss: torch.Tensor, predicted: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one batch."""
        self.loss_sum.update(loss.detach().double() * len(labels))
        self.correct.update((predicted == labels).sum().float())
        self.total.update(torch.tensor(float(len(labels)), device=labels.device))

    def compute_and_reset(self) -> tuple[float, float]:
        """(mean loss, accuracy) of the epoch; NaN where the split saw no batch."""
        total = float(self.total.compute())
        values = (float(self.loss_sum.compute()) / total, float(self.correct.compute()) / total) if total else (float("nan"),) * 2
        for metric in (self.loss_sum, self.correct, self.total):
            metric.reset()
        return values


class SpikingClassifier(pl.LightningModule):
    """Trains ``config.model`` on frames [B, T, C, H, W] with ``config.loss`` and the tau regulariser.

    ``eval_splits`` are evaluated every epoch, in that order: ("val", "test") or ("val",) for
    protocol B, ("test",) for protocol A.
    """

    def __init__(self, config: ExperimentConfig, info: DatasetInfo, eval_splits: tuple[str, ...] = ("val", "test")) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config_to_dict(config), "info": asdict(info), "eval_splits": list(eval_splits)})
        self.config = config
        self.eval_splits = tuple(eval_splits)
        self.network = build_model_from_config(config, info)
        # fullgraph: the network, its neurons and the firing-rate hooks compile as one graph, or fail loudly
        self.forward_network = torch.compile(self.network, fullgraph=True) if config.trainer.compile else self.network
        # spikes kept as bits, H recomputed, exactly (spikedyn.memory); not under torch.compile, whose graph chooses what to save
        self.compact = config.trainer.compact_activations and not config.trainer.compile
        self.loss_fn = build_loss(config)
        self.regularizer = build_regularizer(config, self.network)
        self.metrics = nn.ModuleDict({f"{split}_split": SplitMetrics() for split in ("train", *self.eval_splits)})
        self.train_penalty = MeanMetric(nan_strategy="disable")  # one unweighted value per step
        self.firing = FiringRateMonitor(self.network) if config.records.firing_rates else None
        self.training_firing = FiringRateMonitor(self.network)  # always on: a layer silent for a whole epoch is reported
        neuron_snapshot(self.network, config.records.weights)  # a wrong records.weights name fails now, not after an epoch
        self.epoch_row: dict[str, Any] | None = None
        self.epoch_lrs: dict[str, float] = {}
        self.last_row: dict[str, Any] | None = None

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Class scores [T, B, classes] of a batch of frames [B, T, C, H, W]."""
        return self.forward_network(frames.transpose(0, 1))

    def on_train_start(self) -> None:
        # A run resumed with a longer max_epochs restored the lr its old schedule gave the next epoch.
        for scheduler_config in self.trainer.lr_scheduler_configs:
            if isinstance(scheduler_config.scheduler, ConfigLambdaLR):
                scheduler_config.scheduler.apply_config()

    def on_train_epoch_start(self) -> None:
        self.epoch_lrs = {group.get("name", "group"): group["lr"] for group in self.trainer.optimizers[0].param_groups}
        seed = epoch_seed(self.config.seed, self.current_epoch, self.global_rank)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_index: int) -> torch.Tensor:
        frames, labels = batch
        self.training_firing.active = True
        with compact_activations(self.network) if self.compact else contextlib.nullcontext():
            outputs = self(frames)
        self.training_firing.active = False
        loss = self.loss_fn(outputs, labels)
        total = loss
        if self.regularizer is not None:
            penalty = self.regularizer(self.network)
            self.train_penalty.update(penalty.detach())
            total = loss + penalty
        if self.config.trainer.on_divergence == "stop":
            check_step_loss(total, self.current_epoch, batch_index)
        self.metrics["train_split"].update(loss, self.loss_fn.predict(outputs.detach()), labels)
        return total

    def on_validation_epoch_start(self) -> None:
        # Each DDP process updated its own BN running statistics on its own batches: evaluate
        # every process with rank 0's, the ones its checkpoint holds.
        if self.trainer.world_size > 1:
            for buffer in self.network.buffers():
                torch.distributed.broadcast(buffer, src=0)

    @property
    def firing_split(self) -> str:
        """The split the firing rates are measured on: validation, or test where there is none (protocol A)."""
        return "val" if "val" in self.eval_splits else self.eval_splits[0]

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_index: int, dataloader_idx: int = 0) -> None:
        frames, labels = batch
        split = self.eval_splits[dataloader_idx]
        if self.firing is not None:
            self.firing.active = split == self.firing_split
        outputs = self(frames)
        if self.firing is not None:
            self.firing.active = False
        self.metrics[f"{split}_split"].update(self.loss_fn(outputs, labels), self.loss_fn.predict(outputs), labels)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            for split in self.eval_splits:
                self.metrics[f"{split}_split"].compute_and_reset()
            if self.firing is not None:
                self.firing.compute_and_reset()
            self.training_firing.compute_and_reset()
            return
        row: dict[str, Any] = {"epoch": self.current_epoch, "step": self.global_step}
        for split in ("train", *self.eval_splits):
            row[f"{split}_loss"], row[f"{split}_acc"] = self.metrics[f"{split}_split"].compute_and_reset()
        if self.regularizer is not None:
            row["train_penalty"] = float(self.train_penalty.compute())
            self.train_penalty.reset()
        row.update({f"lr/{name}": lr for name, lr in self.epoch_lrs.items()})  # the rates this epoch trained with
        if self.firing is not None:
            row.update({f"rate/{name}": value for name, value in self.firing.compute_and_reset().items()})
        row.update({f"{TRAIN_RATE}{name}": value for name, value in self.training_firing.compute_and_reset().items()})
        row.update(neuron_statistics(self.network))
        selected_by = SELECTED_BY[self.config.protocol]  # the metric best.ckpt is chosen by
        # for the best checkpoint's monitor only: the recorder logs the whole row, by epoch, to the loggers
        self.log(selected_by, row[selected_by], sync_dist=False, rank_zero_only=False, logger=False)
        self.epoch_row = row
        self.last_row = row

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {"config_digest": experiment_digest(self.config)}

    def configure_optimizers(self):
        extra = list(self.regularizer.parameters()) if self.regularizer is not None else []
        optimizer = build_optimizer(self.config, self.network, extra_tau_parameters=extra)
        scheduler = build_scheduler(self.config, optimizer, self.config.trainer.max_epochs)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}

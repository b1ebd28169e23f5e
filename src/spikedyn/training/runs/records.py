"""The run's records, written every epoch: metrics (CSV, JSONL, the chosen loggers), tau/IMP snapshots, summary.

The history lives in this callback's state, which every checkpoint carries: a resumed run
rewrites the files from it, so they never hold an epoch twice or miss one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import Logger

from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.layer_stats import neuron_snapshot, newly_silent
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.runs.lock import check_run_held
from spikedyn.training.config.schema import RecordsConfig
from spikedyn.training.protocols import DIVERGED
from spikedyn.training.runs.summary import history_summary


def _columns(history: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in history:
        columns.update(dict.fromkeys(row))
    return list(columns)


def history_csv(history: list[dict[str, Any]]) -> str:
    """The history as CSV, one row per epoch, a column per key seen in any epoch."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(history), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def logged_numbers(row: dict[str, Any]) -> dict[str, float]:
    """The numbers of one history row that loggers take (not epoch and step, which place them; no NaN)."""
    return {k: v for k, v in row.items() if isinstance(v, (int, float)) and not math.isnan(v) and k not in ("epoch", "step")}


class RunRecorder(pl.Callback):
    """Appends each epoch's metrics to the history and writes the run's record files (global rank 0).

    ``replay`` are loggers that start empty each time the run starts (CSV, MLflow): a resumed
    run logs its earlier epochs to them again, so that they too hold the whole history.
    """

    def __init__(self, run: RunFolder, records: RecordsConfig, protocol: str = "B", replay: Sequence[Logger] = ()) -> None:
        self.run = run
        self.records = records
        self.protocol = protocol
        self.replay = list(replay)
        self.history: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict["history"])

    def on_fit_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            check_run_held(self.run.path)
            self.write_history()
            for logger in self.replay:
                for row in self.history:
                    logger.log_metrics(logged_numbers(row), step=row["epoch"])

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        row = getattr(module, "epoch_row", None)
        if trainer.sanity_checking or row is None:
            return
        module.epoch_row = None
        self.history = [r for r in self.history if r["epoch"] < row["epoch"]] + [row]
        if not trainer.is_global_zero:
            return
        check_run_held(self.run.path)  # a folder deleted or replaced meanwhile is not recreated in part
        self.write_history()
        last_epoch = row["epoch"] + 1 >= trainer.max_epochs
        every = self.records.snapshot_every
        if every and (row["epoch"] % every == 0 or last_epoch):
            self.write_snapshot(module, row["epoch"])
        for logger in trainer.loggers:
            logger.log_metrics(logged_numbers(row), step=row["epoch"])
        self.run.update_summary(**self.summary_fields(trainer))
        silent = newly_silent(self.history)
        if silent:
            print(f"warning: epoch {row['epoch']}: spiking layer{'s' * (len(silent) > 1)} {', '.join(silent)} fired no spike over "
                  f"the whole training epoch (silent; listed in summary.json under silent_layers)", file=sys.stderr, flush=True)  # fmt: skip

    def mark_diverged(self, trainer: pl.Trainer, problem: str) -> None:
        """Record that the last epoch diverged (``trainer.on_divergence=warn``): no protocol reports it, and its files say so."""
        self.history[-1][DIVERGED] = problem
        if trainer.is_global_zero:
            self.write_history()
            self.run.update_summary(**self.summary_fields(trainer))

    def write_history(self) -> None:
        """metrics.csv and metrics.jsonl from the whole history, atomically."""
        write_bytes_atomically(self.run.metrics_csv, history_csv(self.history).encode(), durable=False)
        lines = "".join(json.dumps(row) + "\n" for row in self.history)
        write_bytes_atomically(self.run.metrics_jsonl, lines.encode(), durable=False)

    def write_snapshot(self, module: pl.LightningModule, epoch: int) -> None:
        """Every layer's full tau and IMP tensors (and the chosen weights) at ``epoch``."""
        tensors = neuron_snapshot(module.network, self.records.weights)
        buffer = io.BytesIO()
        torch.save({"epoch": epoch, "tensors": tensors}, buffer)
        write_bytes_atomically(self.run.snapshots / f"epoch_{epoch:05d}.pt", buffer.getvalue(), durable=False)

    def summary_fields(self, trainer: pl.Trainer) -> dict[str, Any]:
        """What summary.json says of the run so far."""
        return history_summary(self.history, trainer.max_epochs, self.protocol)

"""Noticing a run that diverged: a NaN or infinite loss or parameter.

A spiking layer gone silent is not divergence: it is reported (a warning line and
``silent_layers`` in summary.json) and the run goes on, since a dead network is a result a
study may want.

Checked once per epoch, after the records are written and before any checkpoint is: with
``trainer.on_divergence: stop`` (the default) the run stops there, so the diverged weights are
never checkpointed; with ``warn`` it goes on, but the epoch cannot become ``best.ckpt``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import lightning.pytorch as pl
import torch

from spikedyn.training.records import RunRecorder
from spikedyn.training.stops import RunStopped


class Diverged(RunStopped):
    """The run diverged; the message names the epoch and what went wrong."""

    status = "diverged"


def divergence(history: list[dict[str, Any]], parameters: dict[str, torch.Tensor]) -> str | None:
    """What diverged in the last epoch of ``history`` (the loss or a parameter), or None."""
    row = history[-1]
    epoch = row["epoch"]
    loss = row.get("train_loss")
    if isinstance(loss, float) and not math.isfinite(loss):
        return f"epoch {epoch}: the training loss is {loss}"
    for name, parameter in parameters.items():
        if not torch.isfinite(parameter.detach()).all():
            return f"epoch {epoch}: parameter {name} holds non-finite values"
    return None


class DivergenceGuard(pl.Callback):
    """After each epoch's records: stop the run (``stop``) or warn and keep it from being best (``warn``)."""

    def __init__(self, recorder: RunRecorder, mode: str, selected_by: str) -> None:
        self.recorder, self.mode, self.selected_by = recorder, mode, selected_by

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self.recorder.history:
            return
        problem = divergence(self.recorder.history, dict(module.named_parameters()))
        if problem is None:
            return
        if self.mode == "stop":
            raise Diverged(f"the run diverged at {problem}; set trainer.on_divergence=warn to train on")
        warnings.warn(f"the run diverged at {problem}; training goes on (trainer.on_divergence=warn)", stacklevel=1)
        trainer.callback_metrics[self.selected_by] = torch.tensor(float("nan"))  # never the best checkpoint

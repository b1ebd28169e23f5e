"""Noticing a run that diverged: a NaN or infinite loss, parameter, buffer or learned quantity.

A spiking layer gone silent is not divergence: it is reported (a warning line and
``silent_layers`` in summary.json) and the run goes on, since a dead network is a result a
study may want.

Checked once per epoch, after the records are written and before any checkpoint is: every
parameter and buffer (BatchNorm's running variance) and the recorded tau and IMP statistics
(a finite logit a = -1e30 is tau = inf). The loss is checked at every training step too, so a
run that stops does so at the first non-finite loss. With ``trainer.on_divergence: stop`` (the
default) the run stops there, so the diverged weights are never checkpointed; with ``warn`` it
goes on, but the epoch cannot become ``best.ckpt``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import lightning.pytorch as pl
import torch

from spikedyn.training.layer_stats import LEARNED_QUANTITIES
from spikedyn.training.runs.records import RunRecorder
from spikedyn.training.runs.stops import RunStopped


class Diverged(RunStopped):
    """The run diverged; the message names the epoch and what went wrong."""

    status = "diverged"


#: History keys whose values are learned quantities of the network: a non-finite one is divergence.
LEARNED_PREFIXES = tuple(f"{quantity}/" for quantity in LEARNED_QUANTITIES)


def divergence(history: list[dict[str, Any]], tensors: dict[str, torch.Tensor]) -> str | None:
    """What diverged in the last epoch of ``history`` (the loss, a learned quantity, or one of the named ``tensors``), or None.

    ``tensors`` are the network's parameters and buffers by name ("parameter x" or "buffer x").
    """
    row = history[-1]
    epoch = row["epoch"]
    for key in ("train_loss", "train_penalty"):
        value = row.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            return f"epoch {epoch}: the training {'loss' if key == 'train_loss' else 'tau penalty'} is {value}"
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor.detach()).all():
            return f"epoch {epoch}: {name} holds non-finite values"
    for key, value in row.items():
        if key.startswith(LEARNED_PREFIXES) and isinstance(value, float) and not math.isfinite(value):
            return f"epoch {epoch}: {key} is {value}"
    return None


def learned_tensors(module: pl.LightningModule) -> dict[str, torch.Tensor]:
    """Every parameter of the training module (the regulariser's too) and every buffer of its network, named."""
    parameters = {f"parameter {name}": p for name, p in module.named_parameters()}
    return {**parameters, **{f"buffer network.{name}": b for name, b in module.network.named_buffers()}}


def check_step_loss(loss: torch.Tensor, epoch: int, step: int) -> None:
    """Raise :class:`Diverged` at a training step whose loss is NaN or infinite."""
    if not bool(torch.isfinite(loss.detach())):
        raise Diverged(f"the run diverged at epoch {epoch}, step {step}: the training loss is {float(loss)}; "
                       "set trainer.on_divergence=warn to train on")  # fmt: skip


class DivergenceGuard(pl.Callback):
    """After each epoch's records: stop the run (``stop``) or warn and keep it from being best (``warn``)."""

    def __init__(self, recorder: RunRecorder, mode: str, selected_by: str) -> None:
        self.recorder, self.mode, self.selected_by = recorder, mode, selected_by

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self.recorder.history:
            return
        problem = divergence(self.recorder.history, learned_tensors(module))
        if problem is None:
            return
        if self.mode == "stop":
            raise Diverged(f"the run diverged at {problem}; set trainer.on_divergence=warn to train on")
        warnings.warn(f"the run diverged at {problem}; training goes on (trainer.on_divergence=warn)", stacklevel=1)
        trainer.callback_metrics[self.selected_by] = torch.tensor(float("nan"))  # never the best checkpoint
        self.recorder.mark_diverged(trainer, problem)

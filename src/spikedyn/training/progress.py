"""The console of a run: on a terminal a bar per training epoch with the last epoch's accuracies, elsewhere one line per epoch."""

from __future__ import annotations

import sys
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar

from spikedyn.training.epoch_lines import EpochLines


def console_callback(progress_bar: bool) -> pl.Callback:
    """The live bar where ``progress_bar`` is on and stdout is a terminal; else :class:`EpochLines`, small enough for a log."""
    return EpochProgressBar() if progress_bar and sys.stdout.isatty() else EpochLines()


class EpochProgressBar(TQDMProgressBar):
    """Lightning's bar for training batches; validation and test passes run silently."""

    def on_validation_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        pass

    def on_validation_batch_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_validation_batch_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if self.train_progress_bar is not None and trainer.state.fn == "fit":
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, module))

    def get_metrics(self, trainer: pl.Trainer, module: pl.LightningModule) -> dict[str, Any]:
        """The logged val accuracy and the last epoch's train/test accuracy, as percentages."""
        row = (getattr(module, "last_row", None) or {})
        shown = {key: f"{100 * row[key]:.1f}" for key in ("train_acc", "val_acc", "test_acc") if isinstance(row.get(key), float)}
        return shown

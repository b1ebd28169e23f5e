"""A progress bar per training epoch, showing the last epoch's accuracies; no bars for evaluation."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar


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

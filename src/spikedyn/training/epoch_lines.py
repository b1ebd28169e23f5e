"""One line per training epoch, for logs and pipes where a live progress bar would write megabytes of redraws."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

import lightning.pytorch as pl


def _duration(seconds: float) -> str:
    """``seconds`` as h:mm:ss."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _number(value: object, text: str) -> str:
    """``value`` in the format ``text``, "-" where there is no number."""
    return text.format(value) if isinstance(value, float) and not math.isnan(value) else "-"


def _split(row: dict[str, Any], split: str) -> str | None:
    """"val loss 0.0812 acc 91.20%" for a split the row has, None for one it has not."""
    if f"{split}_acc" not in row:
        return None
    accuracy = row[f"{split}_acc"]
    return f"{split} loss {_number(row.get(f'{split}_loss'), '{:.4f}')} acc {_number(accuracy * 100 if isinstance(accuracy, float) else None, '{:.2f}%')}"


def epoch_line(row: dict[str, Any], max_epochs: int, epoch_s: float, eta_s: float) -> str:
    """The line of one finished epoch: its losses and accuracies, learning rate, time, and the time left."""
    parts = [f"epoch {row['epoch']}/{max_epochs - 1}"]  # counted from 0, as the records and Lightning's bar count them
    parts += [text for text in (_split(row, split) for split in ("train", "val", "test")) if text]
    rates = [value for key, value in row.items() if key.startswith("lr/")]
    if rates:
        parts.append(f"lr {row.get('lr/weights', rates[0]):.3g}")  # the weights' (tau and IMP may have their own)
    parts += [f"{epoch_s:.1f} s", f"ETA {_duration(eta_s)}"]
    return " | ".join(parts)


class EpochLines(pl.Callback):
    """Writes :func:`epoch_line` after each training epoch (its evaluation included) and flushes it (global rank 0).

    The time left is the mean time of the epochs this process has trained times the epochs left.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.started = 0.0
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        row = getattr(module, "last_row", None)
        if not trainer.is_global_zero or row is None or row["epoch"] != trainer.current_epoch:
            return
        self.times.append(time.perf_counter() - self.started)
        left = max(trainer.max_epochs - row["epoch"] - 1, 0)
        stream = self.stream or sys.stdout  # looked up now: a test may have replaced sys.stdout
        print(epoch_line(row, trainer.max_epochs, self.times[-1], left * sum(self.times) / len(self.times)), file=stream, flush=True)

"""Checkpoints written atomically, and read back without running any code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint


class AtomicModelCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, writing each file to a temporary name, flushing it and renaming it.

    A run killed while saving keeps its previous checkpoint whole.
    """

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        temporary = f"{filepath}.tmp"
        super()._save_checkpoint(trainer, temporary)
        if trainer.is_global_zero:
            with open(temporary, "rb+") as file:
                os.fsync(file.fileno())
            os.replace(temporary, filepath)
        trainer.strategy.barrier("atomic_checkpoint")
        self._last_checkpoint_saved = filepath


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint loaded with ``weights_only=True`` (no pickled code runs); damage gets a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises several types for a damaged file
        raise ValueError(f"checkpoint {path} cannot be read ({type(error).__name__}: {error}); it is damaged or not a checkpoint") from error

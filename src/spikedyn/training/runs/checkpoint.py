"""Checkpoints written atomically, verified when read back, and read without running any code."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from spikedyn.atomic import publish_mode


class AtomicModelCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, writing each file to a temporary name, flushing it and renaming it.

    A run killed while saving keeps its previous checkpoint whole, and a save that fails (a full
    disk) leaves no temporary file behind. A run folder that was moved or copied keeps its best
    score when resumed: Lightning forgets it when the folder's path changed, so the next epoch
    would be saved as best whatever its accuracy.
    """

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        temporary = f"{filepath}.tmp"
        try:
            super()._save_checkpoint(trainer, temporary)
            if trainer.is_global_zero:
                with open(temporary, "rb+") as file:
                    os.fsync(file.fileno())
                publish_mode(temporary)
                os.replace(temporary, filepath)
        except BaseException:
            if trainer.is_global_zero:
                Path(temporary).unlink(missing_ok=True)
            raise
        trainer.strategy.barrier("atomic_checkpoint")
        self._last_checkpoint_saved = filepath

    def check_monitor_top_k(self, trainer: pl.Trainer, current: torch.Tensor | None = None) -> bool:
        # Lightning keeps its first candidate whatever its score; a NaN score is an epoch that diverged.
        if current is not None and bool(torch.isnan(current)):
            return False
        return super().check_monitor_top_k(trainer, current)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        moved_from = state_dict.get("dirpath", self.dirpath)
        if moved_from == self.dirpath:
            super().load_state_dict(state_dict)
            return
        same_place = {**state_dict, "dirpath": self.dirpath}
        for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
            same_place[key] = _moved(state_dict.get(key), moved_from, self.dirpath)
        same_place["best_k_models"] = {_moved(path, moved_from, self.dirpath): score for path, score in state_dict.get("best_k_models", {}).items()}
        super().load_state_dict(same_place)


def _moved(path: str | None, old_dir: str | None, new_dir: str | None) -> str | None:
    """``path`` as it is now that its folder ``old_dir`` lives at ``new_dir``."""
    if not path or old_dir is None or new_dir is None:
        return path
    old, candidate = Path(old_dir), Path(path)
    return str(Path(new_dir) / candidate.relative_to(old)) if candidate.is_relative_to(old) else path


def verify_checkpoint(path: Path) -> None:
    """Raise a ValueError naming ``path`` when its zip structure or a member's CRC-32 is damaged.

    A damaged zip raises many types inside zipfile (BadZipFile, NotImplementedError for a flag
    bit or compression method flipped, RuntimeError for a flipped encryption bit, zlib.error):
    each is damage, reported in one line.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - every way zipfile fails on damaged bytes is the same damage
        raise ValueError(f"checkpoint {path} is damaged ({type(error).__name__}: {' '.join(str(error).split())}); it cannot be read") from error
    if damaged is not None:
        raise ValueError(f"checkpoint {path} is damaged: its member {damaged!r} fails its CRC-32 check")


def _is_zip(path: Path) -> bool:
    """Whether ``path`` looks like a zip archive (torch's format); damage that confuses the test counts as a zip, to be verified."""
    try:
        return zipfile.is_zipfile(path)
    except Exception:  # noqa: BLE001 - e.g. BadZipFile "span multiple disks" from a flipped end-of-archive record
        return True


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint whose CRCs check, loaded with ``weights_only=True`` (no pickled code runs); damage gets a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if _is_zip(path):
        verify_checkpoint(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises several types for a damaged file
        reason = " ".join(str(error).split())  # torch's messages span lines; ours is one
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        raise ValueError(f"checkpoint {path} cannot be read ({type(error).__name__}: {reason}); it is damaged or not a checkpoint") from error

"""A run's records as the figures need them: history, summary, config, snapshots, checkpoints."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


class MissingRecords(ValueError):
    """A figure needs records a run does not have; the message says which config option records them."""


@dataclass
class RunRecords:
    """Everything a run folder recorded, read once."""

    path: Path
    name: str
    history: list[dict[str, Any]]
    summary: dict[str, Any]
    config: dict[str, Any]
    snapshot_files: list[Path] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the run is named in legends: its config name and its folder."""
        return f"{self.name} ({self.path.name})" if self.path.name != self.name else self.name

    def column(self, key: str) -> tuple[list[int], list[float]]:
        """(epochs, values) of one history key, skipping epochs where it is absent or NaN."""
        epochs, values = [], []
        for row in self.history:
            value = row.get(key)
            if isinstance(value, (int, float)) and value == value:
                epochs.append(row["epoch"])
                values.append(float(value))
        return epochs, values

    def keys(self, prefix: str, suffix: str = "") -> list[str]:
        """History keys starting with ``prefix`` (and ending with ``suffix``), in first-seen order."""
        seen: dict[str, None] = {}
        for row in self.history:
            seen.update((k, None) for k in row if k.startswith(prefix) and k.endswith(suffix))
        return list(seen)

    def require(self, keys: list[str], what: str, option: str) -> None:
        """Raise MissingRecords naming ``what`` is missing and the config ``option`` that records it."""
        if not keys:
            raise MissingRecords(f"run {self.path} has no {what} in its records; {option}")

    def snapshot(self, index: int = -1) -> dict[str, Any]:
        """One snapshot ({"epoch", "tensors"}), loaded with weights_only=True."""
        if not self.snapshot_files:
            raise MissingRecords(f"run {self.path} has no snapshots; set records.snapshot_every (epochs between snapshots) above 0")
        return torch.load(self.snapshot_files[index], map_location="cpu", weights_only=True)

    def checkpoint_path(self, which: str = "best") -> Path:
        """The run's best (or last) checkpoint; MissingRecords when training never saved one."""
        path = self.path / "checkpoints" / f"{which}.ckpt"
        if not path.exists():
            raise MissingRecords(f"run {self.path} has no {which} checkpoint ({path}): train at least one epoch")
        return path


def load_run(path: str | os.PathLike[str]) -> RunRecords:
    """Read a run folder written by ``spikedyn train``; a clear error when it is not one."""
    path = Path(path)
    metrics = path / "metrics.jsonl"
    if not (path / "config.yaml").is_file():
        raise FileNotFoundError(f"{path} is not a spikedyn run folder: it has no config.yaml")
    history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()] if metrics.exists() else []
    summary = json.loads((path / "summary.json").read_text()) if (path / "summary.json").exists() else {}
    from spikedyn.training.config import config_to_dict, load_config

    config = config_to_dict(load_config(path / "config.yaml"))
    snapshots = sorted((path / "snapshots").glob("epoch_*.pt")) if (path / "snapshots").is_dir() else []
    return RunRecords(path=path, name=config["name"], history=history, summary=summary, config=config, snapshot_files=snapshots)

"""Evaluate a trained run or checkpoint on one split, without Lightning."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from spikedyn.data import build_dataset
from spikedyn.data.base import DatasetInfo
from spikedyn.training.runs.checkpoint import load_checkpoint
from spikedyn.training.config import config_from_dict
from spikedyn.training.factories import build_loss, build_model_from_config
from spikedyn.training.protocols import dataset_options
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.config.schema import ExperimentConfig

NETWORK_PREFIX = "network."


def checkpoint_path(run_or_checkpoint: str | os.PathLike[str], which: str = "best") -> Path:
    """The checkpoint file named directly, or a run folder's best (or last) checkpoint."""
    path = Path(run_or_checkpoint)
    if path.is_dir():
        run = RunFolder.open(path)
        chosen = run.best_checkpoint if which == "best" else run.last_checkpoint
        if not chosen.exists():
            raise FileNotFoundError(f"run {path} has no {which} checkpoint ({chosen}): did its first epoch finish?")
        return chosen
    return path


def network_from_checkpoint(checkpoint: dict[str, Any], source: str) -> tuple[torch.nn.Module, ExperimentConfig, DatasetInfo]:
    """(network in eval mode, config, dataset info) rebuilt from a loaded training checkpoint; ``source`` names it in errors."""
    settings = checkpoint.get("hyper_parameters", {})
    if "config" not in settings or "info" not in settings:
        raise ValueError(f"{source} is not a spikedyn training checkpoint: it holds no config")
    config = config_from_dict(settings["config"], source=source)
    info = DatasetInfo(**{**settings["info"], "frame_shape": tuple(settings["info"]["frame_shape"]), "classes": tuple(settings["info"]["classes"])})
    network = build_model_from_config(config, info)
    state = {k[len(NETWORK_PREFIX) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(NETWORK_PREFIX)}
    network.load_state_dict(state)
    network.eval()
    return network, config, info


def load_network(checkpoint: str | os.PathLike[str]) -> tuple[torch.nn.Module, ExperimentConfig, DatasetInfo]:
    """(network in eval mode, config, dataset info) of a checkpoint file, loaded with weights_only=True."""
    return network_from_checkpoint(load_checkpoint(checkpoint), str(checkpoint))


def evaluate(run_or_checkpoint: str | os.PathLike[str], split: str = "test", which: str = "best", batch_size: int | None = None) -> dict[str, Any]:
    """Loss and accuracy of a checkpoint's network on ``split`` of its own dataset (by its loss's prediction rule)."""
    path = checkpoint_path(run_or_checkpoint, which)
    checkpoint = load_checkpoint(path)
    network, config, _ = network_from_checkpoint(checkpoint, str(path))
    loss_fn = build_loss(config)
    if config.protocol == "A" and split == "val":
        raise ValueError(f"{path} is a protocol A run: it trained on the whole training set and has no validation split")
    dataset = build_dataset(config.data.dataset, split, **dataset_options(config.data.options, config.protocol))
    loader = DataLoader(dataset, batch_size=batch_size or config.data.eval_batch_size or config.data.batch_size)
    total, correct, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for frames, labels in loader:
            outputs = network(frames.transpose(0, 1))
            loss_sum += float(loss_fn(outputs, labels)) * len(labels)
            correct += int((loss_fn.predict(outputs) == labels).sum())
            total += len(labels)
    return {"checkpoint": str(path), "epoch": checkpoint.get("epoch"), "split": split, "samples": total,
            "loss": loss_sum / total, "acc": correct / total}  # fmt: skip

"""What summary.json says of a run's epochs, computed from its history: by the recorder, and again for a damaged summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spikedyn.training.layer_stats import silent_layers
from spikedyn.training.protocols import protocol_fields


def tau_summary(row: dict[str, Any]) -> dict[str, float]:
    """{layer: mean tau} from one history row."""
    return {key[len("tau/") : -len("/mean")]: value for key, value in row.items() if key.startswith("tau/") and key.endswith("/mean")}


def history_summary(history: list[dict[str, Any]], max_epochs: int, protocol: str) -> dict[str, Any]:
    """The summary fields that the per-epoch history decides: epochs, the protocol's result, last metrics, tau, silent layers."""
    last = history[-1]
    return {
        "epochs_completed": last["epoch"] + 1,
        "max_epochs": max_epochs,
        **protocol_fields(protocol, history),
        "last": {k: last[k] for k in last if k.endswith("_acc") or k.endswith("_loss")},
        "tau": tau_summary(last),
        "silent_layers": silent_layers(history),
    }


def rebuilt_summary(folder: Path, damage: str) -> dict[str, Any]:
    """A summary rebuilt from the run's config.yaml and metrics.jsonl, saying that and why; ``{"status": "damaged"}`` if they cannot be read.

    The status is "completed" when the records hold every epoch of the config, else
    "interrupted" (resumable from the last checkpoint); the wall time is not known.
    """
    from spikedyn.training.config import load_config  # the config loader, only for a damaged summary

    note = f"summary.json was damaged ({damage})"
    try:
        config = load_config(folder / "config.yaml")
        lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines() if (folder / "metrics.jsonl").exists() else []
        history = [json.loads(line) for line in lines if line.strip()]
        if not all(isinstance(row, dict) and isinstance(row.get("epoch"), int) for row in history):
            raise ValueError("metrics.jsonl holds a row without an epoch")
    except (OSError, ValueError) as error:
        return {"status": "damaged", "error": f"{note}, and it cannot be rebuilt: {type(error).__name__}: {error}"}
    summary: dict[str, Any] = {"name": config.name, "run_dir": str(folder), "protocol": config.protocol, "rebuilt": f"{note}; rebuilt from metrics.jsonl"}
    if not history:
        return {**summary, "status": "interrupted", "epochs_completed": 0, "max_epochs": config.trainer.max_epochs}
    fields = history_summary(history, config.trainer.max_epochs, config.protocol)
    status = "completed" if fields["epochs_completed"] >= config.trainer.max_epochs else "interrupted"
    checkpoints = {which: str(folder / "checkpoints" / f"{which}.ckpt") for which in ("last", "best") if (folder / "checkpoints" / f"{which}.ckpt").exists()}
    return {**summary, **fields, "status": status, "checkpoints": checkpoints}

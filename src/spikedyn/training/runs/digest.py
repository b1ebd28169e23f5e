"""What identifies an experiment in its checkpoints: a digest of its config, less the settings a resume may change.

A checkpoint stores the digest of the config it was trained with (and the whole config among
its hyper-parameters). A run folder whose config.yaml was replaced by another config must not
train on from that checkpoint as if nothing happened: :func:`check_checkpoint_config` compares
them and names the keys that differ. Configs are compared after both pass the current schema,
so a key that a newer spikedyn adds with its default does not count as a change.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from spikedyn.training.config import config_from_dict, config_to_dict
from spikedyn.training.config.resolve import resolved
from spikedyn.training.config.types import ConfigError
from spikedyn.training.runs.resume import RESUME_KEYS, experiment_changes
from spikedyn.training.config.schema import ExperimentConfig

#: Where a checkpoint keeps the digest (beside Lightning's own entries).
CHECKPOINT_KEY = "spikedyn"


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def experiment_digest(config: ExperimentConfig) -> str:
    """SHA-256 of the resolved config's keys and values, bar :data:`RESUME_KEYS`: equal for the same experiment."""
    flat = {key: value for key, value in _flat(config_to_dict(resolved(config))).items() if key not in RESUME_KEYS}
    return hashlib.sha256(json.dumps(flat, sort_keys=True, default=str).encode()).hexdigest()


def check_checkpoint_config(checkpoint: dict[str, Any], config: ExperimentConfig, source: str) -> None:
    """Refuse to continue from ``checkpoint`` with ``config`` when it trained another experiment, naming the keys that differ."""
    stored = checkpoint.get(CHECKPOINT_KEY, {}).get("config_digest")
    if stored is not None and stored == experiment_digest(config):
        return
    settings = checkpoint.get("hyper_parameters", {}).get("config")
    if settings is None:
        if stored is None:
            return  # a checkpoint that says nothing of its config: nothing to compare
        raise ConfigError(f"{source} was trained with another config than the one given (its digest differs); train into another folder")
    try:
        trained = config_from_dict(settings, source=f"{source} (the config it was trained with)")
    except ConfigError as error:
        raise ConfigError(f"{source}: the config it was trained with no longer validates ({error}); train into another folder") from None
    changed = experiment_changes(trained, config)
    if changed:
        raise ConfigError(
            f"{source} was trained with another config: the run's config.yaml differs from it in {', '.join(changed)}; "
            f"restore the run's config.yaml, or train the new config into another folder"
        )

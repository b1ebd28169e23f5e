"""What a continued run may change: how it shows, logs and loads its data, and a longer ``trainer.max_epochs``.

Everything else defines the experiment: a run continued with another optimiser, dataset or
seed would be neither the old experiment nor a new one, so such a change is refused by name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from spikedyn.training.config import config_differences, load_config
from spikedyn.training.config.types import ConfigError
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.config.schema import ExperimentConfig

#: Keys that do not change what a run trains: its console, its trackers, its data loader processes.
SETTINGS_KEYS = ("trainer.progress_bar", "trainer.loggers", "records.tensorboard", "data.num_workers")
#: Keys a resumed run may override: the settings, and ``trainer.max_epochs`` to train longer.
RESUME_KEYS = (*SETTINGS_KEYS, "trainer.max_epochs")


def experiment_changes(saved: ExperimentConfig, new: ExperimentConfig, allowed: Sequence[str] = RESUME_KEYS) -> list[str]:
    """The dotted keys in which ``new`` changes the experiment of ``saved`` (resolved configs compared), less ``allowed``."""
    return [key for key in config_differences(saved, new) if key not in allowed]


def resume_config(run_dir: str | os.PathLike[str], overrides: Sequence[str]) -> ExperimentConfig:
    """The config of an existing run with ``overrides`` applied; one that changes the experiment is refused by name."""
    run = RunFolder.open(run_dir)
    config = load_config(run.config_file, overrides)  # train() saves it once the checkpoint has loaded
    changed = experiment_changes(run.config(), config)
    if changed:
        raise ConfigError(
            f"a resumed run keeps the experiment in {run.config_file}; {', '.join(changed)} would change it. "
            f"On --resume only these may be overridden: {', '.join(RESUME_KEYS)}. "
            f"To train with the change, start a new run: spikedyn train --config {run.config_file} KEY=VALUE"
        )
    return config

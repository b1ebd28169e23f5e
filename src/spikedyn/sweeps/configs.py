"""Every run's config, validated before any run starts, and the comparisons checked against the runs they compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spikedyn.sweeps.expand import SweepRun
from spikedyn.sweeps.keys import flatten
from spikedyn.sweeps.sweep_file import SweepFile
from spikedyn.training.config import ConfigError, config_to_dict, load_config
from spikedyn.training.config.schema import ExperimentConfig


def run_config(run: SweepRun, sweep_path: Path) -> ExperimentConfig:
    """The run's validated config: its base with its settings and seed; errors name the sweep file, the run and the key."""
    try:
        return load_config(run.base, run.overrides())
    except ConfigError as error:
        raise ConfigError(f"{sweep_path}: run {run.name}: {error}") from None


def _matches(config: dict[str, Any], side: dict[str, Any]) -> bool:
    return all(key in config and config[key] == value for key, value in flatten(side).items())


def validate(sweep: SweepFile, runs: list[SweepRun]) -> dict[str, ExperimentConfig]:
    """{run name: config} for every run; a ConfigError at the first invalid run, or at a comparison side no run matches."""
    configs = {run.name: run_config(run, sweep.path) for run in runs}
    flat = [flatten(config_to_dict(config)) for config in configs.values()]
    for index, comparison in enumerate(sweep.comparisons):
        for side in ("a", "b"):
            if not any(_matches(config, comparison[side]) for config in flat):
                raise ConfigError(f"{sweep.path}: comparisons[{index}] ({comparison['name']}): {side} = {comparison[side]} matches no run of the sweep")
    return configs

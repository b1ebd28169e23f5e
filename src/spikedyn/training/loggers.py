"""The experiment trackers a run logs its per-epoch metrics to (``trainer.loggers``): Lightning's own loggers.

TensorBoard and CSV write into the run's folder. MLflow logs to ``MLFLOW_TRACKING_URI`` when it
is set, else to a local store beside the run folders (``<output folder>/mlflow.db``, MLflow's own
default kind of store); W&B follows its own settings (``WANDB_MODE=offline``, ``WANDB_PROJECT``)
and continues the same W&B run when the run is resumed. Lightning is imported only when the
loggers are built, so configs can be checked without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spikedyn.training.config.checks import LOGGER_NAMES
from spikedyn.training.config.types import ConfigError
from spikedyn.training.config.schema import ExperimentConfig

if TYPE_CHECKING:
    from lightning.pytorch.loggers import Logger

    from spikedyn.training.runs.folder import RunFolder

TRACKERS_EXTRA = "pip install 'spikedyn[trackers]'"


@dataclass(frozen=True)
class Tracker:
    """What one logger needs installed, how to install it, and whether a resumed run logs its history to it again."""

    modules: tuple[str, ...]  # any one of them importable will do
    install: str
    replays: bool  # it starts empty on every start (CSV rewrites its file, MLflow opens a new run)


TRACKERS: dict[str, Tracker] = {
    "tensorboard": Tracker(("tensorboard", "tensorboardX"), "pip install tensorboard", replays=False),
    "csv": Tracker((), "", replays=True),
    "wandb": Tracker(("wandb",), f"{TRACKERS_EXTRA} (or pip install wandb)", replays=False),
    "mlflow": Tracker(("mlflow",), f"{TRACKERS_EXTRA} (or pip install mlflow)", replays=True),
}
if tuple(TRACKERS) != LOGGER_NAMES:  # the config checks name them without importing this module
    raise ImportError(f"spikedyn.training.config.checks.LOGGER_NAMES {LOGGER_NAMES} differs from the trackers {tuple(TRACKERS)}")


def chosen_loggers(config: ExperimentConfig) -> list[str]:
    """The loggers a run uses: ``trainer.loggers``, less TensorBoard where ``records.tensorboard`` is false."""
    return [name for name in config.trainer.loggers if name != "tensorboard" or config.records.tensorboard]


def mlflow_tracking_uri(output: Path) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else a SQLite store in ``output`` (the folder holding the run folders)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(output / 'mlflow.db').absolute()}"


def check_logger_packages(config: ExperimentConfig) -> None:
    """Refuse, before a run starts, a chosen logger whose package is missing, naming what to install."""
    for name in chosen_loggers(config):
        tracker = TRACKERS[name]
        if tracker.modules and not any(importlib.util.find_spec(module) for module in tracker.modules):
            raise ConfigError(f"trainer.loggers: {name!r} needs the {tracker.modules[0]} package, which is not installed: "
                              f"{tracker.install}, or leave {name!r} out of trainer.loggers")  # fmt: skip
    if "mlflow" in chosen_loggers(config) and "MLFLOW_TRACKING_URI" not in os.environ and not importlib.util.find_spec("sqlalchemy"):
        raise ConfigError("trainer.loggers: 'mlflow' logs to a local SQLite store unless MLFLOW_TRACKING_URI is set, which needs "
                          f"the full mlflow package (mlflow-skinny lacks it): {TRACKERS_EXTRA}, or set MLFLOW_TRACKING_URI")  # fmt: skip


def _wandb_id(run: RunFolder) -> str:
    """A W&B run id that a resumed run finds again: a hash of the run folder's absolute path."""
    return hashlib.sha1(str(run.path.absolute()).encode()).hexdigest()[:16]


def _build(name: str, config: ExperimentConfig, run: RunFolder) -> Logger:
    from lightning.pytorch import loggers

    builders: dict[str, Callable[[], Logger]] = {
        "tensorboard": lambda: loggers.TensorBoardLogger(run.path, name="tensorboard", version=""),
        "csv": lambda: loggers.CSVLogger(run.path, name="csv", version=""),
        "wandb": lambda: loggers.WandbLogger(
            project=os.environ.get("WANDB_PROJECT", "spikedyn"), name=run.path.name, group=config.name,
            save_dir=str(run.path), id=_wandb_id(run), resume="allow",
        ),
        "mlflow": lambda: loggers.MLFlowLogger(
            experiment_name=config.name, run_name=run.path.name, tracking_uri=mlflow_tracking_uri(run.path.absolute().parent),
            tags={"run_dir": str(run.path.absolute())},
        ),
    }  # fmt: skip
    return builders[name]()


def build_loggers(config: ExperimentConfig, run: RunFolder) -> list[tuple[str, Logger]]:
    """(name, Lightning logger) of each logger the run uses, in the order the config gives them."""
    return [(name, _build(name, config, run)) for name in chosen_loggers(config)]


def replaying(loggers: list[tuple[str, Any]]) -> list[Any]:
    """The loggers that start empty each time, to which a resumed run logs its earlier epochs again."""
    return [logger for name, logger in loggers if TRACKERS[name].replays]

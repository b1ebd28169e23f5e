"""spikedyn from Python: train an experiment into a run folder, open a run, get its network and evaluate it.

The same runs as the ``spikedyn`` command's: what ``spikedyn.train`` writes, ``spikedyn
eval``, ``report``, ``table`` and ``export`` read, and the other way round.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from spikedyn.analysis.run_records import RunRecords
    from spikedyn.training.config.schema import ExperimentConfig

def _dotted(overrides: Mapping[str, object]) -> dict[str, object]:
    """Keyword overrides as {"dotted.key": value}: ``trainer__max_epochs=5`` and ``trainer={"max_epochs": 5}`` alike.

    A non-empty mapping merges key by key into what the config has (``model={"options":
    {"hidden": 64}}`` keeps the config's other model options); an empty one replaces.
    """
    values: dict[str, object] = {}

    def add(key: str, value: object) -> None:
        if isinstance(value, Mapping) and value:
            for inner, item in value.items():
                add(f"{key}.{inner}", item)
        else:
            values[key] = value

    for key, value in overrides.items():
        add(key.replace("__", "."), value)
    return values


def _config(config: object, overrides: Mapping[str, object]) -> ExperimentConfig:
    """The validated config that ``config`` (a path, a packaged name, a mapping, a config or None) and the overrides describe."""
    from spikedyn.training.config import config_to_dict, config_with_values
    from spikedyn.training.config.names import find_config
    from spikedyn.training.config.reading import read_file
    from spikedyn.training.config.schema import ExperimentConfig

    if config is None:
        base, source = {}, "<defaults>"
    elif isinstance(config, ExperimentConfig):
        base, source = config_to_dict(config), "<ExperimentConfig>"
    elif isinstance(config, Mapping):
        base, source = config, "<dict>"
    elif isinstance(config, (str, os.PathLike)):
        path = find_config(os.fspath(config))
        base, source = read_file(Path(path), ()), str(path)
    else:
        raise TypeError(f"config must be a path, a packaged config's name, a mapping or an ExperimentConfig, got {type(config).__name__}")
    return config_with_values(base, _dotted(overrides), source)


class Run:
    """A run folder written by :func:`train` or ``spikedyn train``: its config, summary, records and trained network.

    Example::

        >>> run = spikedyn.load_run("runs/digits-20261123-143443")
        >>> run.summary["status"], run.config.model.name
        ('completed', 'plifnet_mnist')
        >>> run.evaluate("test")["acc"]  # the best checkpoint, as `spikedyn eval` reports it
        0.9805
        >>> network = run.network()  # eval mode, takes [T, B, C, H, W]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from spikedyn.training.runs.folder import RunFolder

        self.path = RunFolder.open(path).path

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self.path.resolve() == other.path.resolve()

    def __hash__(self) -> int:
        return hash(self.path.resolve())

    @property
    def config(self) -> ExperimentConfig:
        """The config the run trains with (its config.yaml, validated)."""
        from spikedyn.training.config import load_config

        return load_config(self.path / "config.yaml")

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json as it is now: status, epochs, the accuracy its protocol reports, tau, silent layers."""
        from spikedyn.training.runs.folder import RunFolder

        return RunFolder(self.path).summary()

    @property
    def records(self) -> RunRecords:
        """The per-epoch metrics (``.history``, ``.column(key)``) and the tau/IMP snapshots (``.snapshot(i)``)."""
        from spikedyn.analysis.run_records import load_run as read_records

        return read_records(self.path)

    def checkpoint(self, checkpoint: str = "best") -> Path:
        """The path of the run's "best" (the epoch its protocol reports) or "last" checkpoint."""
        from spikedyn.training.evaluate import checkpoint_path

        if checkpoint not in ("best", "last"):
            raise ValueError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}")
        return checkpoint_path(self.path, checkpoint)

    def network(self, checkpoint: str = "best") -> nn.Module:
        """The trained network of the "best" or "last" checkpoint, in eval mode, on the CPU."""
        from spikedyn.training.evaluate import load_network

        return load_network(self.checkpoint(checkpoint))[0]

    def evaluate(self, split: str = "test", checkpoint: str = "best", batch_size: int | None = None) -> dict[str, Any]:
        """{"acc", "loss", "samples", "epoch", ...} of a checkpoint on ``split``: what ``spikedyn eval`` prints."""
        from spikedyn.training.evaluate import evaluate

        return evaluate(self.checkpoint(checkpoint), split, batch_size=batch_size)

    def resume(self, **overrides: object) -> Run:
        """Continue the run from its last checkpoint, e.g. ``run.resume(trainer__max_epochs=60)``; returns it."""
        from spikedyn.training.config.types import ConfigError
        from spikedyn.training.runs.resume import RESUME_KEYS, experiment_changes
        from spikedyn.training.train import train as train_run

        config = _config(self.path / "config.yaml", overrides)
        changed = experiment_changes(self.config, config)
        if changed:
            raise ConfigError(f"a resumed run keeps its experiment; {', '.join(changed)} would change it (only {', '.join(RESUME_KEYS)} may)")
        return Run(train_run(config, resume=self.path).path)


def load_run(path: str | os.PathLike[str]) -> Run:
    """Open a run folder written by :func:`train` or ``spikedyn train``.

    Example::

        >>> run = spikedyn.load_run("runs/digits-20261123-143443")
        >>> run.evaluate("test")["acc"] == run.summary["protocol_B"]["test_acc"]
        True
    """
    return Run(path)


def train(config: object = None, /, *, run_dir: str | os.PathLike[str] | None = None, **overrides: object) -> Run:
    """Train an experiment into a new run folder (or exactly ``run_dir``) and return the :class:`Run`.

    ``config``: a YAML path, the name of a packaged config ("digits", "plif_table2_mnist", ...),
    a mapping shaped like the YAML, an ExperimentConfig, or None for the offline default run.
    Overrides are keywords, a double underscore for each dot of the config key, or a mapping
    per section: ``trainer__max_epochs=5``, ``model={"name": "mypkg.models:Net"}``,
    ``output_dir="runs/mine"``. ``run_dir`` trains in exactly that folder, continuing it if it
    was interrupted. Errors are those of ``spikedyn train``; the run folder is the same.

    Example::

        >>> import spikedyn
        >>> run = spikedyn.train("digits", trainer__max_epochs=2, model__neuron__tau=4.0)
        >>> run.summary["protocol_B"]["test_acc"]
        0.93
    """
    from spikedyn.training.accelerators import check_accelerator
    from spikedyn.training.commands import quiet_lightning
    from spikedyn.training.train import train as train_run

    resolved = _config(config, overrides)
    quiet_lightning()
    check_accelerator(resolved.trainer, "spikedyn.train")
    return Run(train_run(resolved, run_dir=run_dir).path)

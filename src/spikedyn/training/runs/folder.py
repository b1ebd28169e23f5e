"""A run's folder: its resolved config, environment, records, checkpoints and summary."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import socket
import sys
from pathlib import Path
from typing import Any

from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.config import load_config, save_config
from spikedyn.training.config.schema import ExperimentConfig

PACKAGES = ("spikedyn", "torch", "lightning", "numpy", "numba", "tonic", "scikit-learn")


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: Any) -> None:
    """JSON written atomically."""
    write_bytes_atomically(path, (json.dumps(data, indent=1, default=str) + "\n").encode())


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


class RunFolder:
    """Paths and small files of one run under ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    config_file = property(lambda self: self.path / "config.yaml")
    environment_file = property(lambda self: self.path / "environment.json")
    summary_file = property(lambda self: self.path / "summary.json")
    metrics_csv = property(lambda self: self.path / "metrics.csv")
    metrics_jsonl = property(lambda self: self.path / "metrics.jsonl")
    snapshots = property(lambda self: self.path / "snapshots")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.path / "checkpoints" / "last.ckpt")
    best_checkpoint = property(lambda self: self.path / "checkpoints" / "best.ckpt")

    @classmethod
    def create(cls, config: ExperimentConfig, output_dir: str | os.PathLike[str] | None = None, job: str | None = None, write: bool = True) -> RunFolder:
        """A new folder holding the resolved config and the environment.

        Named ``<name>-<UTC time>``, or ``<name>-job<job>`` when the processes of a distributed
        job must find the same folder without talking (then only the one with ``write`` writes).
        """
        base = Path(output_dir if output_dir is not None else config.output_dir)
        if job is not None:
            run = cls(base / f"{config.name}-job{job}")
            run.path.mkdir(parents=True, exist_ok=True)
            if not write or run.config_file.exists():
                return run
        else:
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
            base.mkdir(parents=True, exist_ok=True)
            path, suffix = base / f"{config.name}-{stamp}", 1
            while True:
                try:
                    path.mkdir()  # atomic: two runs started in the same second get different folders
                    break
                except FileExistsError:
                    suffix += 1
                    path = base / f"{config.name}-{stamp}-{suffix}"
            run = cls(path)
        run.write_start(config)
        return run

    def write_start(self, config: ExperimentConfig) -> None:
        """Write the resolved config and the environment a run starts with (into an existing folder)."""
        save_config(config, self.config_file)
        import torch  # results depend on the thread count (float reductions): it is recorded

        write_json(self.environment_file, {
            "seed": config.seed, "created": now(), "command": sys.argv, "python": platform.python_version(),
            "platform": platform.platform(), "host": socket.gethostname(), "versions": {p: _version(p) for p in PACKAGES},
            "torch_threads": torch.get_num_threads(),
        })  # fmt: skip

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunFolder:
        """An existing run folder; a clear error when ``path`` is not one."""
        run = cls(path)
        if not run.config_file.is_file():
            raise FileNotFoundError(f"{run.path} is not a spikedyn run folder: it has no config.yaml")
        return run

    def config(self) -> ExperimentConfig:
        """The resolved config the run was started with."""
        return load_config(self.config_file)

    def read_summary(self) -> tuple[dict[str, Any], str | None]:
        """(the run's summary, what was wrong with summary.json or None); {} before the first write.

        A damaged summary.json (cut short, not JSON, not a mapping) is rebuilt from the run's
        records (:func:`~spikedyn.training.runs.summary.rebuilt_summary`), never read as empty.
        """
        try:
            text = self.summary_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, None
        except (OSError, UnicodeDecodeError) as error:
            damage = f"{type(error).__name__}: {error}"
        else:
            try:
                summary = json.loads(text)
            except ValueError as error:
                damage = f"not JSON: {error}"
            else:
                if isinstance(summary, dict):
                    return summary, None
                damage = f"a JSON {type(summary).__name__}, not an object"
        from spikedyn.training.runs.summary import rebuilt_summary  # records and protocols: only for a damaged file

        return rebuilt_summary(self.path, damage), f"{self.summary_file} was damaged ({damage})"

    def summary(self) -> dict[str, Any]:
        """The run's summary.json (rebuilt from the records if it is damaged), or {} before the first write."""
        return self.read_summary()[0]

    def update_summary(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into summary.json (atomically) and return it."""
        summary = {**self.summary(), **fields, "updated": now()}
        write_json(self.summary_file, summary)
        return summary

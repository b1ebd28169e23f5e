"""A sweep bound to its folder: its runs, their folders and states, which of them to train, and the copy of its file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from spikedyn.atomic import write_bytes_atomically
from spikedyn.sweeps.configs import run_config, validate
from spikedyn.sweeps.expand import SweepRun, expand
from spikedyn.sweeps.state import RunState, run_state
from spikedyn.sweeps.sweep_file import SweepFile, read_sweep_file
from spikedyn.training.config.types import ConfigError
from spikedyn.training.runs.resume import RESUME_KEYS, SETTINGS_KEYS, experiment_changes
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.config.schema import ExperimentConfig

DEFAULT_OUT = "runs"
COPY = "sweep.yaml"  # the sweep file as it was last run, beside its runs (spikedyn table reads its comparisons)
LOG = "train.log"  # a local worker's output, in its run's folder


@dataclass(frozen=True)
class Sweep:
    """A sweep file, its runs, and the folder ``<out>/<name>/`` that holds one folder per run."""

    file: SweepFile
    folder: Path
    runs: list[SweepRun]

    @classmethod
    def load(cls, path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Sweep:
        """Read and expand the sweep file (its run configs are validated by :meth:`configs`)."""
        file = read_sweep_file(path)
        return cls(file, Path(out if out is not None else DEFAULT_OUT).absolute() / file.name, expand(file))

    def run_dir(self, run: SweepRun) -> Path:
        """The folder run ``run`` trains in."""
        return self.folder / run.name

    def find(self, name: str) -> SweepRun:
        """The run called ``name``; a ConfigError when the sweep file has no such run (any more)."""
        for run in self.runs:
            if run.name == name:
                return run
        raise ConfigError(f"{self.file.path} has no run named {name!r} (was the file changed since the sweep started?)")

    def config(self, run: SweepRun) -> ExperimentConfig:
        """One run's validated config."""
        return run_config(run, self.file.path)

    def configs(self) -> dict[str, ExperimentConfig]:
        """Every run's validated config, before anything runs."""
        return validate(self.file, self.runs)

    def states(self) -> dict[str, RunState]:
        """{run name: its state}, read from the run folders."""
        return {run.name: run_state(self.run_dir(run)) for run in self.runs}

    def to_train(self, states: dict[str, RunState], retry_failed: bool = False) -> list[SweepRun]:
        """The runs to start or resume: pending and stopped ones, missing ones whose folder is gone, and failed ones with ``retry_failed``.

        A missing run whose folder was written again in part is left out: it holds records of a
        run cut short and no config, which a new run must not resume from.
        """
        wanted = ("pending", "stopped", "failed") if retry_failed else ("pending", "stopped")
        return [run for run in self.runs if states[run.name].state in wanted or self._gone(run, states[run.name])]

    def _gone(self, run: SweepRun, state: RunState) -> bool:
        """Whether ``run`` is missing with no folder left: trained again, from the start."""
        return state.state == "missing" and not self.run_dir(run).exists()

    def check_folders(self, configs: dict[str, ExperimentConfig], states: dict[str, RunState]) -> None:
        """Refuse, before anything runs, run folders holding a run of another config than the sweep gives them now.

        That is a sweep file changed since, or another study budget into the same folder: such a
        run would be counted completed (or resumed) as if it were the sweep's. A run not yet
        completed may differ in the keys a resume may change (``trainer.max_epochs`` among them); a
        completed one in the settings that do not change what it trained (console, loggers, workers).
        """
        clashes = []
        for run in self.runs:
            folder = RunFolder(self.run_dir(run))
            if folder.config_file.is_file():
                allowed = SETTINGS_KEYS if states[run.name].state == "completed" else RESUME_KEYS
                changed = experiment_changes(folder.config(), configs[run.name], allowed)
                if changed:
                    clashes.append(f"{run.name} (differs in {', '.join(changed)})")
        if clashes:
            shown = "; ".join(clashes[:3]) + (f"; and {len(clashes) - 3} more" if len(clashes) > 3 else "")
            raise ConfigError(f"{self.folder} holds runs trained with another config than {self.file.path} gives them: {shown}. "
                              "Train into another --out, or move those run folders away")  # fmt: skip

    def write_copy(self) -> Path:
        """Write the sweep file, as it is now, to ``<folder>/sweep.yaml`` (atomically)."""
        return write_bytes_atomically(self.folder / COPY, self.file.text.encode("utf-8"))

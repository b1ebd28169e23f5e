"""Run a study: write its base configs and sweep file into its folder, prepare its data, train the sweep, write the report.

Layout of ``DIR`` (``--out``)::

    DIR/inputs/sweep.yaml, DIR/inputs/<base>.yaml    the study as an ordinary sweep (spikedyn sweep can run it too)
    DIR/<study>/<run>/                               one folder per run (the sweep engine's)
    DIR/study.md, DIR/table.md, DIR/table.csv, DIR/figures/

Running the same study into the same folder again skips completed runs and resumes
interrupted ones, so a long study may span several sittings.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from spikedyn.analysis.run_records import load_run
from spikedyn.atomic import write_bytes_atomically
from spikedyn.studies.report import Context, write_report
from spikedyn.studies.study import Study
from spikedyn.training.schema import ExperimentConfig

INPUTS = "inputs"
SWEEP_FILE = "sweep.yaml"
COMMAND_FILE = "command.txt"  # the command that last trained the study, for a report rewritten with --report-only


def _yaml(document: object) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120).encode("utf-8")


def write_inputs(study: Study, budget: str, folder: Path) -> Path:
    """Write the study's base configs and sweep file for ``budget`` under ``folder/inputs``; the sweep file's path.

    A folder whose inputs say otherwise (another budget, or another version of the study) is
    refused before anything is written: its runs are not this study's.
    """
    inputs = folder / INPUTS
    files = {label: f"{label}.yaml" for label in study.bases}
    contents = {inputs / name: _yaml(study.base_config(label, budget, str(folder))) for label, name in files.items()}
    contents[inputs / SWEEP_FILE] = _yaml(study.sweep_document(budget, files))
    differing = sorted(path.name for path, data in contents.items() if path.is_file() and path.read_bytes() != data)
    if differing:
        raise ValueError(f"{folder} holds a study run with other inputs ({', '.join(differing)} in {inputs} differ from "
                         f"study {study.name}'s {budget} budget): another budget or version of the study; use another --out")  # fmt: skip
    for path, data in contents.items():
        write_bytes_atomically(path, data, durable=False)
    return inputs / SWEEP_FILE


def prepare_data(configs: Iterable[ExperimentConfig]) -> None:
    """Build each distinct dataset split the runs use once, here, so parallel workers find it generated and cached."""
    from spikedyn.data import build_dataset
    from spikedyn.training.protocols import dataset_options

    seen = set()
    for config in configs:
        options = dataset_options(config.data.options, config.protocol)
        key = (config.data.dataset, repr(sorted(options.items())))
        if key not in seen:
            seen.add(key)
            for split in ("train", "val", "test") if config.protocol == "B" else ("train", "test"):
                build_dataset(config.data.dataset, split, **options)


def write_study_report(study: Study, budget: str, folder: Path, command: str) -> Path:
    """(Re)write study.md and its table and figures from the runs under ``folder``."""
    from spikedyn.sweeps.sweep import Sweep

    sweep = Sweep.load(folder / INPUTS / SWEEP_FILE, folder)
    runs = [load_run(sweep.run_dir(run)) for run in sweep.runs if (sweep.run_dir(run) / "config.yaml").is_file()]
    return write_report(study, runs, folder, Context(budget, command, sweep.folder, len(sweep.runs)))


def command_line(study: Study, budget: str) -> str:
    """The command that ran this study, as the report shows it."""
    if sys.argv and Path(sys.argv[0]).name == "spikedyn" and "study" in sys.argv:
        return shlex.join(["spikedyn", *sys.argv[1:]])
    return f"spikedyn study {study.name} --budget {budget}"


def training_command(study: Study, budget: str, folder: Path) -> str:
    """The command that last trained the study in ``folder`` (what its report shows), else the plain one."""
    try:
        saved = (folder / INPUTS / COMMAND_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        saved = ""
    return saved or f"spikedyn study {study.name} --budget {budget}"


def run_study(
    study: Study,
    budget: str,
    out: str | os.PathLike[str],
    executor: str = "local",
    workers: int = 1,
    retry_failed: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """Train the study's sweep for ``budget`` into ``out`` and write its report; the sweep's exit code (0: all completed)."""
    from spikedyn.sweeps.run import train_sweep
    from spikedyn.sweeps.sweep import Sweep

    folder = Path(out).absolute()
    command = command_line(study, budget)
    sweep = Sweep.load(write_inputs(study, budget, folder), folder)
    write_bytes_atomically(folder / INPUTS / COMMAND_FILE, (command + "\n").encode("utf-8"), durable=False)
    configs = sweep.configs()
    prepare_data(configs.values())
    code = train_sweep(sweep, executor=executor, workers=workers, retry_failed=retry_failed, say=say)
    if executor == "local" and code != 130:
        path = write_study_report(study, budget, folder, command)
        say(f"study {study.name}: report in {path}")
    return code

"""Run a study: write its base configs and sweep file into its folder, prepare its data, train the sweep, write the report.

Layout of ``DIR`` (``--out``)::

    DIR/inputs/sweep.yaml, DIR/inputs/<base>.yaml    the study as an ordinary sweep (spikedyn sweep can run it too)
    DIR/inputs/budget.txt, command.txt, machine.txt  the budget, command and machine it was trained with
    DIR/<study>/<run>/                               one folder per run (the sweep engine's; checkpoints, not committed)
    DIR/records/<run>/                               each run's config, summary and metrics: what the report reads
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
from spikedyn.studies.records import RECORDS, export_all
from spikedyn.studies.report import Context, machine, write_report
from spikedyn.studies.study import Study
from spikedyn.training.config.schema import ExperimentConfig

INPUTS = "inputs"
SWEEP_FILE = "sweep.yaml"
COMMAND_FILE = "command.txt"  # the command that last trained the study, for a report rewritten with --report-only
BUDGET_FILE = "budget.txt"  # the budget the folder was trained with: a report of another budget is refused
MACHINE_FILE = "machine.txt"  # the machine it was trained on, as the report names it


def _yaml(document: object) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120).encode("utf-8")


def write_inputs(study: Study, budget: str, folder: Path) -> Path:
    """Write the study's base configs and sweep file for ``budget`` under ``folder/inputs``; the sweep file's path.

    A folder whose inputs say otherwise (another budget, or another version of the study) is
    refused before anything is written: its runs are not this study's.
    """
    inputs = folder / INPUTS
    files = {label: f"{label}.yaml" for label in study.base_labels(budget)}
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


def _read(folder: Path, name: str) -> str:
    try:
        return (folder / INPUTS / name).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def check_budget(study: Study, budget: str, folder: Path) -> None:
    """Refuse to report ``folder`` as ``budget`` when it was trained with another one (its inputs say which)."""
    trained = _read(folder, BUDGET_FILE)
    if not trained:
        files = {f"{label}.yaml": _yaml(study.base_config(label, budget, str(folder))) for label in study.base_labels(budget)}
        matching = all((folder / INPUTS / name).is_file() and (folder / INPUTS / name).read_bytes() == data for name, data in files.items())
        trained = budget if matching else ""
    if trained != budget:
        said = f"the {trained} budget" if trained else "another budget or version of the study"
        raise ValueError(f"{folder} holds study {study.name} run with {said}, not the {budget} budget: pass --budget {trained or '...'}")


def write_study_report(study: Study, budget: str, folder: Path, command: str) -> Path:
    """(Re)write study.md and its table and figures from the runs' records under ``folder`` (exported from the run folders there are)."""
    from spikedyn.sweeps.sweep import Sweep

    check_budget(study, budget, folder)
    sweep = Sweep.load(folder / INPUTS / SWEEP_FILE, folder)
    export_all({run.name: sweep.run_dir(run) for run in sweep.runs}, folder)
    records = folder / RECORDS
    runs = [load_run(records / run.name) for run in sweep.runs if (records / run.name / "config.yaml").is_file()]
    context = Context(budget, command, Path(RECORDS), len(sweep.runs), _read(folder, MACHINE_FILE) or machine())
    return write_report(study, runs, folder, context)


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
    for name, text in ((COMMAND_FILE, command), (BUDGET_FILE, budget), (MACHINE_FILE, machine())):
        write_bytes_atomically(folder / INPUTS / name, (text + "\n").encode("utf-8"), durable=False)
    configs = sweep.configs()
    prepare_data(configs.values())
    code = train_sweep(sweep, executor=executor, workers=workers, retry_failed=retry_failed, say=say)
    if executor == "local" and code != 130:
        path = write_study_report(study, budget, folder, command)
        say(f"study {study.name}: report in {path}")
    return code

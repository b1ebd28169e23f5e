"""The ``spikedyn study`` command: list the studies, run one (its sweep, then its report), or rewrite its report."""

from __future__ import annotations

import argparse
from pathlib import Path

from spikedyn.studies import BUDGETS
from spikedyn.subcommands import command_help
from spikedyn.sweeps import EXECUTORS
from spikedyn.sweeps.commands import positive_int
from spikedyn.training.commands import report_user_error

DEFAULT_OUT = "runs/studies"


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``study`` to the ``spikedyn`` command's subparsers."""
    study = commands.add_parser(
        "study", help="test a seed paper's claims: a sweep over offline data, then study.md with verdicts (--list: the studies)",
        usage="spikedyn study --list | spikedyn study NAME [--budget smoke|full|real] [--workers N] [--executor local|slurm] [--out DIR] [--report-only]",
        **command_help("Run a study: its sweep (resumed where it stopped when run again into the same --out), then DIR/study.md "
        "with each claim, its numbers with 95% confidence intervals and a verdict, the table (md, csv) and the figures.",
        "spikedyn study --list", "spikedyn study pooling --budget full --workers 2"),
    )  # fmt: skip
    study.add_argument("name", nargs="?", help="the study (see --list)")
    study.add_argument("--list", action="store_true", help="list the studies and the claims they test")
    study.add_argument("--budget", choices=BUDGETS, default="smoke",
                       help="smoke: a few minutes, checks it runs; full: the study on offline data; real: on Fashion-MNIST (where a study has it) (default smoke)")  # fmt: skip
    study.add_argument("--workers", type=positive_int, default=1, metavar="N", help="local executor: runs at once, sharing the cores (default 1)")
    study.add_argument("--executor", choices=EXECUTORS, default="local", help="local worker processes, or a SLURM job array (default local)")
    study.add_argument("--retry-failed", action="store_true", help="train failed runs again")
    study.add_argument("--report-only", action="store_true", help="train nothing: rewrite the report from the runs there are (after a SLURM sweep)")
    study.add_argument("--out", metavar="DIR", help=f"the study's folder (default {DEFAULT_OUT}/NAME-BUDGET)")
    study.set_defaults(handler=_study, study_parser=study)


def _list() -> int:
    from spikedyn.studies.catalog import STUDIES

    for study in STUDIES.values():
        print(f"{study.name}: {study.title}")
        for claim in study.claims:
            print(f"  - {claim.key} ({claim.source})")
    return 0


def _study(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.name:
        args.study_parser.error("name a study, or --list them")
    try:
        from spikedyn.studies.catalog import get_study
        from spikedyn.studies.runner import run_study, training_command, write_study_report

        study = get_study(args.name)
        out = Path(args.out or f"{DEFAULT_OUT}/{study.name}-{args.budget}")
        if args.report_only:
            print(f"report in {write_study_report(study, args.budget, out.absolute(), training_command(study, args.budget, out))}")
            return 0
        if args.executor == "slurm":
            from spikedyn.sweeps.slurm import require_slurm

            require_slurm()  # before the study's inputs are written
        say = lambda line: print(line, flush=True)  # noqa: E731
        return run_study(study, args.budget, out, args.executor, args.workers, args.retry_failed, say)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("study", error)

"""The ``spikedyn sweep`` command (train a sweep, or ``sweep status``) and the hidden ``sweep-run`` of its local workers."""

from __future__ import annotations

import argparse

from spikedyn.subcommands import command_help
from spikedyn.sweeps import EXECUTORS
from spikedyn.training.commands import report_user_error, format_summary


def positive_int(text: str) -> int:
    """An argparse type: an int of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text}")
    return value


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``sweep`` (and the hidden ``sweep-run``) to the ``spikedyn`` command's subparsers."""
    sweep = commands.add_parser(
        "sweep", help="train every run of a sweep file (spikedyn sweep status FILE: where each run stands)",
        usage="spikedyn sweep [status] FILE.yaml [--workers N] [--executor local|slurm] [--dry-run] [--retry-failed] [--out DIR]",
        **command_help("Train the runs of a sweep file (bases x grid x variants x seeds) into OUT/<sweep name>/<run name>/. "
        "Run it again to resume: completed runs are skipped, interrupted ones continue from their last checkpoint, "
        "failed ones are retried only with --retry-failed. 'spikedyn sweep status FILE' lists each run's state.",
        "spikedyn sweep tau_study.yaml --workers 2", "spikedyn sweep status tau_study.yaml"),
    )  # fmt: skip
    sweep.add_argument("words", nargs="+", metavar="[status] FILE.yaml", help="the sweep file; 'status FILE' shows its runs' states")
    sweep.add_argument("--workers", type=positive_int, default=1, metavar="N", help="local executor: runs trained at once, sharing the cores (default 1)")
    sweep.add_argument("--executor", choices=EXECUTORS, default="local", help="local: worker processes here; slurm: a submitit job array (default local)")
    sweep.add_argument("--dry-run", action="store_true", help="print the runs that would be trained, and train nothing")
    sweep.add_argument("--retry-failed", action="store_true", help="train failed or diverged runs again (they resume from their last checkpoint)")
    sweep.add_argument("--out", metavar="DIR", help="folder that holds the sweep's folder (default: runs)")
    sweep.set_defaults(handler=_sweep, sweep_parser=sweep)
    worker = commands.add_parser("sweep-run")  # no help: a local worker's command, not listed
    worker.add_argument("file")
    worker.add_argument("run")
    worker.add_argument("--out")
    worker.set_defaults(handler=_sweep_run)


def _file(args: argparse.Namespace) -> tuple[bool, str]:
    """(whether it is ``sweep status``, the sweep file) from the positional words."""
    words, parser = args.words, args.sweep_parser
    if len(words) == 1 and words[0] != "status":
        return False, words[0]
    if len(words) == 2 and words[0] == "status":
        flags = [flag for flag, given in (("--workers", args.workers != 1), ("--executor", args.executor != "local"),
                                          ("--dry-run", args.dry_run), ("--retry-failed", args.retry_failed)) if given]  # fmt: skip
        if flags:
            parser.error(f"sweep status takes only --out, not {', '.join(flags)}")
        return True, words[1]
    parser.error("expected 'spikedyn sweep FILE.yaml' or 'spikedyn sweep status FILE.yaml'")
    raise AssertionError  # parser.error exits


def _sweep(args: argparse.Namespace) -> int:
    status, path = _file(args)
    try:
        return _status(path, args.out) if status else _train(args, path)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("sweep", error)


def _status(path: str, out: str | None) -> int:
    from spikedyn.sweeps.report import status_table
    from spikedyn.sweeps.sweep import Sweep

    sweep = Sweep.load(path, out)
    print(status_table(sweep, sweep.states()))
    return 0


def _train(args: argparse.Namespace, path: str) -> int:
    from spikedyn.sweeps.run import train_sweep
    from spikedyn.sweeps.sweep import Sweep

    sweep = Sweep.load(path, args.out)
    return train_sweep(sweep, args.executor, args.workers, args.retry_failed, args.dry_run, say=lambda line: print(line, flush=True))


def _sweep_run(args: argparse.Namespace) -> int:
    """A local worker: train one run of the sweep file in its folder."""
    import signal

    from spikedyn.sweeps.orphans import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the sweep stops its workers by SIGINT, even from the background
    try:
        from spikedyn.sweeps.sweep import Sweep
        from spikedyn.sweeps.task import train_run

        sweep = Sweep.load(args.file, args.out)
        run = sweep.find(args.run)
        summary = train_run(sweep.config(run), sweep.run_dir(run), sweep.file.threads)
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("sweep-run", error)
    print(format_summary(summary))
    return 0

"""The ``spikedyn train``, ``eval`` and ``runs`` subcommands (Lightning is imported only when they run)."""

from __future__ import annotations

import argparse
import json
import linecache
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spikedyn.subcommands import command_help
from spikedyn.training.protocols import accuracy_lines, percent

if TYPE_CHECKING:
    from spikedyn.training.config.schema import ExperimentConfig

_PACKAGE = Path(__file__).resolve().parents[1]  # src/spikedyn


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add train, eval and runs to the ``spikedyn`` command's subparsers."""
    train = commands.add_parser("train", help="train an experiment (default: a PLIF net on the offline digits)", **command_help(
        "Train an experiment from a YAML config (default: the PLIF paper's MNIST net on scikit-learn's offline digits) into "
        "a run folder, then print the accuracy its protocol reports and the learned tau per layer.",
        "spikedyn train --config digits trainer.max_epochs=5"))  # fmt: skip
    train.add_argument("--config", help="experiment YAML, or the name of a packaged config (digits, plif_table2_mnist, ...); default: the offline digits run")
    train.add_argument("--out", help="folder for the run folder (default: the config's output_dir, 'runs')")
    train.add_argument("--resume", metavar="RUN", help="continue this run folder from its last checkpoint; overrides may only train "
                       "longer (trainer.max_epochs) or change settings that leave the experiment as it is (trainer.loggers, ...)")
    train.add_argument("--print-config", action="store_true", help="print the resolved config (every default filled in, dataset options included) and exit")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. trainer.max_epochs=5")
    train.set_defaults(handler=_train)
    evaluate = commands.add_parser("eval", help="evaluate a run's checkpoint on a split", **command_help(
        "Evaluate a run's best (or last) checkpoint, or a .ckpt file, on one split of its dataset.",
        "spikedyn eval runs/digits-20261123-143443 --split val --checkpoint last"))  # fmt: skip
    evaluate.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder or a .ckpt file")
    evaluate.add_argument("--split", default="test", choices=("train", "val", "test"), help="default: test")
    evaluate.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which checkpoint of a run folder (default: best: the epoch its protocol reports)")
    evaluate.set_defaults(handler=_eval)
    runs = commands.add_parser("runs", help="list the runs in a folder with their status and best accuracies", **command_help(
        "List every run folder below FOLDER: its status, epochs, and the accuracy its protocol reports.",
        "spikedyn runs runs/sweeps --json"))  # fmt: skip
    runs.add_argument("folder", nargs="?", default="runs", help="default: runs")
    runs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    runs.set_defaults(handler=_runs)


def format_summary(summary: dict) -> str:
    """The end-of-run summary: the accuracy its protocol reports, learned tau per layer, the run folder."""
    lines = [
        f"run {summary.get('name')}: {summary.get('status')} after {summary.get('epochs_completed', 0)} epochs"
        + (f" in {summary['wall_time_s']:.0f} s" if isinstance(summary.get("wall_time_s"), (int, float)) else ""),
        *(f"  {label}: {value}" for label, value in accuracy_lines(summary)),
    ]
    sizes = summary.get("split_sizes")
    if sizes:
        lines.append("  samples: " + ", ".join(f"{split} {count}" for split, count in sizes.items()))
    tau = summary.get("tau") or {}
    if tau:
        lines.append("  learned tau (mean per layer): " + ", ".join(f"{layer} {value:.3f}" for layer, value in tau.items()))
    silent = summary.get("silent_layers") or {}
    if silent:
        lines.append("  silent layers (no spike in a whole training epoch): " + ", ".join(f"{layer} from epoch {epoch}" for layer, epoch in silent.items()))
    lines.append(f"  written to {summary.get('run_dir')}")
    return "\n".join(lines)


def quiet_lightning() -> None:
    """Keep the terminal to the progress bar and the summary: no Lightning banners, tips or deprecations."""
    import logging
    import warnings

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")  # a resumed run
    warnings.filterwarnings("ignore", message=r"Experiment logs directory .* exists and is not empty")  # its CSV logger: replayed


def _raised_by_spikedyn(error: BaseException) -> bool:
    """Whether ``error`` comes from a ``raise`` statement in spikedyn's own code (not from torch, Lightning or Python)."""
    frame = error.__traceback__
    if frame is None:
        return False
    while frame.tb_next is not None:
        frame = frame.tb_next
    filename = frame.tb_frame.f_code.co_filename
    return Path(filename).resolve().is_relative_to(_PACKAGE) and linecache.getline(filename, frame.tb_lineno).lstrip().startswith("raise ")


def _user_error(error: Exception) -> bool:
    """Whether ``error`` is about what the user gave or has (config, files, data, network, machine), not a bug.

    Config errors, OS errors (a missing or unreadable file, no network, a full disk) and runs
    stopped for a reason are; so are the ValueErrors and RuntimeErrors spikedyn raises on purpose
    (a damaged checkpoint, a failed download). Anything else keeps its traceback.
    """
    from spikedyn.training.config.types import ConfigError
    from spikedyn.training.runs.stops import RunStopped

    if isinstance(error, (ConfigError, OSError, RunStopped)):
        return True
    return isinstance(error, (ValueError, RuntimeError)) and _raised_by_spikedyn(error)


def _one_line(error: Exception) -> str:
    """The message of ``error`` on one line (a config error keeps its list of problems, one per line)."""
    from spikedyn.training.config.types import ConfigError

    text = str(error).strip() or type(error).__name__
    if isinstance(error, ConfigError):
        return text
    first, *rest = [part.strip() for part in text.splitlines() if part.strip()]
    for part in rest:  # "tried:\n  url: ...\n  url: ..." -> "tried: url: ...; url: ..."
        first += (" " if first.endswith(":") else "; ") + part
    return first


def report_user_error(command: str, error: Exception) -> int:
    """Print a user error as ``spikedyn COMMAND: message`` (no traceback) and return the exit status; re-raise a bug.

    The status is 2, or 130 for a run stopped by Ctrl-C (the shell's convention for SIGINT).
    """
    from spikedyn.training.runs.stops import RunInterrupted

    if not _user_error(error):
        raise error
    print(f"spikedyn {command}: {_one_line(error)}", file=sys.stderr)
    return 130 if isinstance(error, RunInterrupted) else 2


def _train_config(args: argparse.Namespace) -> tuple[ExperimentConfig, str]:
    """(the config ``spikedyn train`` runs, how errors name it): a resumed run's, a file's, a packaged one's or the default."""
    from spikedyn.training.config import config_source, load_config
    from spikedyn.training.config.names import find_config
    from spikedyn.training.config.types import ConfigError
    from spikedyn.training.runs.resume import resume_config

    if args.resume:
        if args.config is not None:
            raise ConfigError(f"--resume {args.resume} continues that run with its own config ({Path(args.resume) / 'config.yaml'}); "
                              f"--config {args.config} cannot change it: leave out --config, or start a new run without --resume")  # fmt: skip
        return resume_config(args.resume, args.overrides), config_source(args.resume, args.overrides)
    path = find_config(args.config) if args.config is not None else None
    return load_config(path, args.overrides), config_source(path, args.overrides)


def _train(args: argparse.Namespace) -> int:
    from spikedyn.runtime import tune_cpu_allocator
    from spikedyn.training.config import config_yaml

    tune_cpu_allocator()
    try:
        config, source = _train_config(args)
        if args.print_config:
            print(config_yaml(config), end="")
            return 0
        from spikedyn.training.accelerators import check_accelerator  # Lightning, imported only to train
        from spikedyn.training.train import train

        quiet_lightning()
        check_accelerator(config.trainer, source)  # before the run folder is made
        run = train(config, output_dir=args.out, resume=args.resume)
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("train", error)
    print(format_summary(run.summary()))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from spikedyn.training.evaluate import evaluate

    try:
        result = evaluate(args.run, args.split, args.checkpoint)
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("eval", error)
    print(f"{result['checkpoint']} (epoch {result['epoch']}): {args.split} accuracy {percent(result['acc'])}, "
          f"loss {result['loss']:.4f} over {result['samples']} samples")  # fmt: skip
    return 0


def _runs(args: argparse.Namespace) -> int:
    from spikedyn.training.runs.listing import format_runs, list_runs

    try:
        entries = list_runs(args.folder)
    except OSError as error:
        return report_user_error("runs", error)
    print(json.dumps(entries, indent=1) if args.json else format_runs(entries))
    return 0

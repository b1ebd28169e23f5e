"""The ``spikedyn`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from spikedyn import __version__
from spikedyn.analysis.commands import add_commands as add_analysis_commands
from spikedyn.interop.commands import add_commands as add_interop_commands
from spikedyn.studies.commands import add_commands as add_study_commands
from spikedyn.subcommands import IntermixedParser, command_help
from spikedyn.sweeps.commands import add_commands as add_sweep_commands
from spikedyn.training.commands import add_commands as add_training_commands


def _demo(args: argparse.Namespace) -> int:
    from spikedyn.demo import format_result, run_demo
    from spikedyn.runtime import tune_cpu_allocator

    tune_cpu_allocator()
    print(f"spikedyn {__version__}: training PLIF neurons (tau_0 = {args.tau}) to tell bursts from spread spikes")
    print(format_result(run_demo(iterations=args.iterations, steps=args.steps, tau=args.tau, seed=args.seed)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``spikedyn`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="spikedyn",
        description="Train spiking neural networks whose neuron dynamics (tau, initial potential) are learned.",
    )
    parser.add_argument("--version", action="version", version=f"spikedyn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=IntermixedParser)
    demo = commands.add_parser("demo", help="train a small PLIF network on synthetic spike bursts (under a minute)", **command_help(
        "Train a small PLIF network to tell bursts of spikes from the same number of spread spikes, and print the "
        "accuracy and the learned tau before and after: a check that the neurons learn, with no data to fetch.",
        "spikedyn demo --iterations 600 --tau 8"))  # fmt: skip
    demo.add_argument("--iterations", type=int, default=1500, help="training iterations (default 1500)")
    demo.add_argument("--steps", type=int, default=16, help="time steps T per sample (default 16)")
    demo.add_argument("--tau", type=float, default=16.0, help="initial tau of every PLIF neuron (default 16)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_demo)
    add_training_commands(commands)
    add_sweep_commands(commands)
    add_study_commands(commands)
    add_analysis_commands(commands)
    add_interop_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikedyn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

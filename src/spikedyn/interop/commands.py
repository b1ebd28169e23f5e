"""The ``spikedyn export`` subcommand: a run's trained network as a NIR file (nir loads only when it runs)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from spikedyn.subcommands import command_help

FORMATS = ("nir",)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add export to the ``spikedyn`` command's subparsers."""
    export = commands.add_parser("export", help="write a trained network's inference graph as a NIR file for neuromorphic simulators and hardware", **command_help(
        "Write the inference graph of a run's trained network (batch norm folded, dropout left out) as a NIR file that "
        "neuromorphic simulators and hardware toolchains import: per-neuron tau, thresholds and resets for one time step "
        "of --dt seconds. What NIR cannot express (soft reset, a learned initial potential, TEBN's per-step scale) is "
        "refused, naming each layer, unless --approximate, which reports each approximated layer.",
        "spikedyn export runs/digits-20250101-120000 --format nir --out digits.nir"))  # fmt: skip
    export.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder or a .ckpt file")
    export.add_argument("--format", required=True, choices=FORMATS, help="nir: the Neuromorphic Intermediate Representation")
    export.add_argument("--out", metavar="FILE.nir", help="the file to write (default: RUN/model.nir for a run folder, the checkpoint's name with .nir beside a .ckpt file)")
    export.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which checkpoint of a run folder (default: best)")
    export.add_argument("--dt", type=float, default=1e-4, help="seconds one time step stands for: NIR tau = dt / k (default 1e-4)")
    export.add_argument("--approximate", action="store_true",
                        help="export what NIR cannot express (soft reset, IMP, TEBN's per-step scale) approximately, reported layer by layer")  # fmt: skip
    export.set_defaults(handler=_export)


def _default_out(run_or_checkpoint: str) -> Path:
    """Where an export goes without --out: RUN/model.nir, or beside a checkpoint file under its name."""
    path = Path(run_or_checkpoint)
    return path / "model.nir" if path.is_dir() else path.with_suffix(".nir")


def _export(args: argparse.Namespace) -> int:
    import torch

    from spikedyn.training.commands import report_user_error
    from spikedyn.training.evaluate import checkpoint_path, load_network

    try:
        from spikedyn.interop.approximations import ApproximationWarning
        from spikedyn.interop.export import export_graph
        from spikedyn.interop.files import write_nir
    except ImportError as error:
        print(f"spikedyn export: --format nir needs the nir package (pip install 'spikedyn[nir]'): {error}", file=sys.stderr)
        return 2
    try:
        path = checkpoint_path(args.run, args.checkpoint)
        network, _, info = load_network(path)
        sample = torch.zeros(1, 1, *info.frame_shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ApproximationWarning)  # printed below, one line per layer
            result = export_graph(network, sample, args.dt, approximate=args.approximate)
        written = write_nir(result.graph, args.out or _default_out(args.run))
    except Exception as error:  # noqa: BLE001 - report_user_error re-raises what is not the user's to fix
        return report_user_error("export", error)
    for line in result.approximations:
        print(f"approximated: {line}")
    nodes = [node for name, node in result.graph.nodes.items() if name not in ("input", "output")]
    print(f"wrote {written}: {len(nodes)} NIR nodes from {path}, one step = {args.dt:g} s, "
          f"input {list(info.frame_shape)} per step{' (approximate)' if result.approximations else ' (exact)'}")  # fmt: skip
    return 0

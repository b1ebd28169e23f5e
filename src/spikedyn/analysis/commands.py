"""The ``spikedyn plot``, ``report``, ``table`` and ``energy`` subcommands (matplotlib loads only when they run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add plot, report, table and energy to the ``spikedyn`` command's subparsers."""
    plot = commands.add_parser("plot", help="draw one figure of the seeds from runs (spikedyn plot --list)")
    plot.add_argument("figure", nargs="?", help="figure name (see --list)")
    plot.add_argument("runs", nargs="*", metavar="RUN", help="run folders")
    plot.add_argument("--list", action="store_true", help="list the figures and the seed figure each redraws")
    plot.add_argument("--out", help="output file (PNG; a vector copy is written beside it); default: <figure>.png here")
    plot.add_argument("--vector", default="svg", choices=("svg", "pdf"), help="vector format written beside the PNG")
    plot.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="figure option, e.g. --set window=16")
    plot.set_defaults(handler=_plot)
    report = commands.add_parser("report", help="write a self-contained HTML report of a run")
    report.add_argument("run", metavar="RUN")
    report.add_argument("--out", help="default: RUN/report.html")
    report.set_defaults(handler=report_user_error)
    table = commands.add_parser("table", help="results table across runs, grouped by protocol (A or B): mean, std and 95%% CI over seeds")
    table.add_argument("runs", nargs="+", metavar="RUN_GLOB", help="run folders, folders of runs, or glob patterns")
    table.add_argument("--comparisons", metavar="FILE.yaml", help="comparisons to make (a sweep file or a list); default: those of the sweep.yaml of a folder holding all the runs")
    table.add_argument("--out", help="also write OUT.md, OUT.csv and OUT_comparisons.csv")
    table.set_defaults(handler=_table)
    energy = commands.add_parser("energy", help="synaptic operations and energy per sample of a trained network")
    energy.add_argument("checkpoint", metavar="RUN_OR_CHECKPOINT")
    energy.add_argument("--split", default="test", choices=("train", "val", "test"))
    energy.add_argument("--samples", type=int, default=64, help="samples averaged over (default 64)")
    energy.set_defaults(handler=_energy)


def _options(pairs: list[str]) -> dict[str, object]:
    import yaml

    options = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set takes KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        options[key.strip()] = yaml.safe_load(value)
    return options


def _plot(args: argparse.Namespace) -> int:
    from spikedyn.analysis.figures import FIGURES, draw_figure
    from spikedyn.analysis.run_records import MissingRecords, load_run
    from spikedyn.analysis.save import save_figure

    if args.list:
        for name in sorted(FIGURES):
            spec = FIGURES[name]
            source = "runs" if spec.needs_runs else "the neuron model"
            print(f"{name:18} {spec.redraws}  [from {source}]")
        return 0
    if not args.figure:
        print("spikedyn plot: name a figure (spikedyn plot --list)", file=sys.stderr)
        return 2
    try:
        runs = [load_run(path) for path in args.runs]
        figure = draw_figure(args.figure, runs, **_options(args.set))
        written = save_figure(figure, args.out or f"{args.figure}.png", args.vector)
    except (MissingRecords, FileNotFoundError, ValueError, TypeError) as error:
        print(f"spikedyn plot: {error}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def report_user_error(args: argparse.Namespace) -> int:
    from spikedyn.analysis.report import write_report

    try:
        path = write_report(Path(args.run), args.out)
    except (FileNotFoundError, ValueError) as error:
        print(f"spikedyn report: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _table(args: argparse.Namespace) -> int:
    from spikedyn.analysis.comparisons import compare, find_sweep_file, format_comparisons, load_comparisons, write_comparisons_csv
    from spikedyn.analysis.tables import collect_rows, expand_runs, format_markdown, load_runs, write_csv
    from spikedyn.atomic import write_bytes_atomically

    try:
        folders = expand_runs(args.runs)
        runs = load_runs(folders)
        source = args.comparisons or find_sweep_file(folders)
        results = compare(runs, load_comparisons(source)) if source else []
        rows = collect_rows(runs)
    except (OSError, ValueError) as error:
        print(f"spikedyn table: {error}", file=sys.stderr)
        return 2
    text = format_markdown(rows) + (f"\n{format_comparisons(results, source)}" if results else "")
    print(text)
    if args.out:
        write_bytes_atomically(Path(f"{args.out}.md"), (text + "\n").encode())
        write_csv(rows, Path(f"{args.out}.csv"))
        write_comparisons_csv(results, Path(f"{args.out}_comparisons.csv"))
        print(f"wrote {args.out}.md, {args.out}.csv and {args.out}_comparisons.csv")
    return 0


def _energy(args: argparse.Namespace) -> int:
    from spikedyn.analysis.energy import format_operations, operations_of_checkpoint
    from spikedyn.training.evaluate import checkpoint_path

    try:
        count = operations_of_checkpoint(checkpoint_path(args.checkpoint), split=args.split, samples=args.samples)
    except (FileNotFoundError, ValueError) as error:
        print(f"spikedyn energy: {error}", file=sys.stderr)
        return 2
    print(format_operations(count))
    return 0

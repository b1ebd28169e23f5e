"""The ``spikedyn plot``, ``report``, ``table`` and ``energy`` subcommands (matplotlib loads only when they run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spikedyn.subcommands import command_help


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add plot, report, table and energy to the ``spikedyn`` command's subparsers."""
    plot = commands.add_parser("plot", help="draw one figure of the seeds from runs (spikedyn plot --list)", add_help=False, **command_help(
        "Draw one figure of the seed papers from run folders (or from the neuron model alone) as a PNG, with a vector copy "
        "beside it. 'spikedyn plot --list' lists the figures; 'spikedyn plot FIGURE --help' shows what one draws and its "
        "options, given as --set KEY=VALUE. Options may come before, between or after the run folders.",
        "spikedyn plot accuracy runs/a runs/b --set window=16 --out accuracy.png", "spikedyn plot accuracy --help"))  # fmt: skip
    plot.add_argument("figure", nargs="?", help="figure name (see --list)")
    plot.add_argument("runs", nargs="*", metavar="RUN", help="run folders")
    plot.add_argument("-h", "--help", action="store_true", help="show this help (after a FIGURE: that figure's description and options) and exit")
    plot.add_argument("--list", action="store_true", help="list the figures and the seed figure each redraws")
    plot.add_argument("--out", help="output file (PNG; a vector copy is written beside it); default: <figure>.png here")
    plot.add_argument("--vector", default="svg", choices=("svg", "pdf"), help="vector format written beside the PNG")
    plot.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="figure option, e.g. --set window=16 (spikedyn plot FIGURE --help lists them)")
    plot.set_defaults(handler=_plot, plot_parser=plot)
    report = commands.add_parser("report", help="write a self-contained HTML report of a run", **command_help(
        "Write one HTML page about a run, with nothing to fetch: its summary, the accuracy its protocol reports, learned tau, "
        "the last epoch's metrics, the run's own figures (accuracy, tau, firing rates, ...) and its config. Figures that lack "
        "records are listed with the option that records them.",
        "spikedyn report runs/digits-20261123-143443 --out report.html"))  # fmt: skip
    report.add_argument("run", metavar="RUN")
    report.add_argument("--out", help="default: RUN/report.html")
    report.add_argument("--illustrations", action="store_true", help="also draw, after the run's figures, those not drawn from the run: the neuron-model illustrations (imp_dynamics, pattern_mapping) and the benchmark's speed")
    report.set_defaults(handler=_report)
    table = commands.add_parser("table", help="results table across runs, grouped by protocol (A or B): mean, std and 95%% CI over seeds", **command_help(
        "Print the results of many runs, grouped by protocol (A: maximum test accuracy; B: test accuracy at the best "
        "validation epoch) and by configuration: mean, std and 95% confidence interval over seeds, and the comparisons of "
        "a sweep (Welch's test).",
        'spikedyn table "runs/pertau_*" --out results'))  # fmt: skip
    table.add_argument("runs", nargs="+", metavar="RUN_GLOB", help="run folders, folders of runs, or glob patterns")
    table.add_argument("--comparisons", metavar="FILE.yaml", help="comparisons to make (a sweep file or a list); default: those of the sweep.yaml of a folder holding all the runs")
    table.add_argument("--out", help="also write OUT.md, OUT.csv and OUT_comparisons.csv")
    table.set_defaults(handler=_table)
    energy = commands.add_parser("energy", help="synaptic operations and energy per sample of a trained network", **command_help(
        "Count the synaptic operations of a trained network per sample (MACs for the first layer, spike-driven SOPs for the "
        "others) over the first samples of a split, and their energy at 45 nm, as the IMP paper's Tables 5 and 6.",
        "spikedyn energy runs/digits-20261123-143443 --checkpoint last --samples 128"))  # fmt: skip
    energy.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder or a .ckpt file")
    energy.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which checkpoint of a run folder (default: best: the epoch its protocol reports)")
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


def _plot_help(args: argparse.Namespace) -> int:
    """``spikedyn plot --help``, or with a figure named, that figure's description and options."""
    if not args.figure:
        args.plot_parser.print_help()
        return 0
    from spikedyn.analysis.figure_help import figure_help

    try:
        print(figure_help(args.figure))
    except ValueError as error:
        print(f"spikedyn plot: {error}", file=sys.stderr)
        return 2
    return 0


def _plot(args: argparse.Namespace) -> int:
    if args.help:
        return _plot_help(args)
    from spikedyn.analysis.figures import FIGURES, draw_figure
    from spikedyn.analysis.run_records import MissingRecords, load_run
    from spikedyn.analysis.save import save_figure

    if args.list:
        for name in sorted(FIGURES):
            spec = FIGURES[name]
            source = "runs" if spec.needs_runs else "the neuron model"
            print(f"{name:18} {spec.redraws}  [from {source}]")
        print("\nspikedyn plot FIGURE --help: what a figure draws and its options")
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


def _report(args: argparse.Namespace) -> int:
    from spikedyn.analysis.report import write_report

    try:
        path = write_report(Path(args.run), args.out, illustrations=args.illustrations)
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
        missing = missing_in_sweeps(args.runs)
        folders = expand_runs(args.runs) if not missing or any(_has_runs(pattern) for pattern in args.runs) else []
        runs = load_runs(folders)
        source = args.comparisons or (find_sweep_file(folders) if folders else None)
        results = compare(runs, load_comparisons(source)) if source else []
        rows = collect_rows(runs)
    except (OSError, ValueError) as error:
        print(f"spikedyn table: {error}", file=sys.stderr)
        return 2
    text = format_markdown(rows) + (f"\n{format_comparisons(results, source)}" if results else "")
    if missing:
        lines = [f"- {name}: {reason}" for name, reason in missing.items()]
        note = f"Missing: {len(missing)} run(s) that a sweep started are not in the table (n counts only the runs present):"
        text += "\n\n" + "\n".join([note, *lines])
        print(f"spikedyn table: warning: {len(missing)} run(s) of the sweep are missing; see the end of the table", file=sys.stderr)
    print(text)
    if args.out:
        write_bytes_atomically(Path(f"{args.out}.md"), (text + "\n").encode())
        write_csv(rows, Path(f"{args.out}.csv"))
        write_comparisons_csv(results, Path(f"{args.out}_comparisons.csv"))
        print(f"wrote {args.out}.md, {args.out}.csv and {args.out}_comparisons.csv")
    return 0


def _has_runs(pattern: str) -> bool:
    """Whether a folder or glob pattern finds at least one run folder."""
    from spikedyn.analysis.tables import expand_runs

    try:
        return bool(expand_runs([pattern]))
    except FileNotFoundError:
        return False


def missing_in_sweeps(patterns: list[str]) -> dict[str, str]:
    """{run: why it is missing} of the sweeps among ``patterns`` (folders holding a sweep's ``.started/`` marks) and of the
    sweeps whose run folders they name."""
    import glob

    from spikedyn.training.runs.listing import STARTED, missing_runs

    folders = {Path(match) for pattern in patterns for match in (glob.glob(pattern) or [pattern])}
    sweeps = {folder for folder in folders if (folder / STARTED).is_dir()} | {folder.parent for folder in folders if (folder.parent / STARTED).is_dir()}
    return {f"{sweep.name}/{name}": reason for sweep in sorted(sweeps) for name, reason in missing_runs(sweep).items()}


def _energy(args: argparse.Namespace) -> int:
    from spikedyn.analysis.energy import format_operations, operations_of_checkpoint
    from spikedyn.training.evaluate import checkpoint_path

    try:
        count = operations_of_checkpoint(checkpoint_path(args.run, args.checkpoint), split=args.split, samples=args.samples)
    except (FileNotFoundError, ValueError) as error:
        print(f"spikedyn energy: {error}", file=sys.stderr)
        return 2
    print(format_operations(count))
    return 0

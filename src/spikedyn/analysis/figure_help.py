"""``spikedyn plot FIGURE --help``: what one figure draws, from what, and its options with defaults and meanings."""

from __future__ import annotations

import inspect
import os
import shutil
import textwrap

from spikedyn.analysis.figure_registry import figure_options
from spikedyn.analysis.figures import FigureSpec, figure_spec  # registers every figure


def option_text(value: object) -> str:
    """A default as the YAML ``--set KEY=VALUE`` reads back: null, true, [0.0, 1.0], fused."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(option_text(item) for item in value) + "]"
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def _source(spec: FigureSpec) -> str:
    if not spec.needs_runs:
        return "no run folder (it is drawn from the neuron model or the benchmark's results)"
    return "one run folder" if spec.max_runs == 1 else "one or more run folders, one colour or panel each"


def _example(spec: FigureSpec, options: dict[str, object]) -> str:
    runs = " runs/a" if spec.needs_runs and spec.max_runs == 1 else " runs/a runs/b" if spec.needs_runs else ""
    first = next(((key, value) for key, value in options.items() if value is not None), None)
    setting = f" --set {first[0]}={option_text(first[1])}" if first else ""
    return f"spikedyn plot {spec.name}{runs}{setting} --out {spec.name}.png"


def figure_help(name: str) -> str:
    """The help of figure ``name``: its description, the seed figure it redraws, what it is drawn from, its options."""
    spec = figure_spec(name)
    options = figure_options(spec) or {}
    runs = " RUN" if spec.max_runs == 1 else " RUN [RUN ...]" if spec.needs_runs else ""
    lines = [
        f"usage: spikedyn plot {name}{runs} [--out FILE.png] [--vector {{svg,pdf}}] [--set KEY=VALUE ...]",
        "",
        inspect.getdoc(spec.draw) or name,
        "",
        f"redraws: {spec.redraws}",
        f"drawn from: {_source(spec)}",
        "",
    ]
    if options:
        lines.append("figure options (--set KEY=VALUE, the value read as YAML; default after '='):")
        width = max(len(f"{key}={option_text(value)}") for key, value in options.items())
        columns = max(shutil.get_terminal_size().columns - 2, width + 24)
        for key, value in options.items():
            start = f"  {f'{key}={option_text(value)}':{width}}  "
            lines.append(textwrap.fill(spec.options.get(key, ""), columns, initial_indent=start, subsequent_indent=" " * len(start)) or start.rstrip())
    else:
        lines.append("figure options: none")
    lines += ["", "example:", f"  {_example(spec, options)}"]
    return "\n".join(lines)

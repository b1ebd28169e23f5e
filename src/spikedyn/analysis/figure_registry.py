"""Figures by name: what each draws, from what, and which seed figure it redraws."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from spikedyn.analysis.run_records import RunRecords

Draw = Callable[..., Figure]


@dataclass(frozen=True)
class FigureSpec:
    """A figure: ``draw(runs, **options) -> Figure``; ``runs`` is empty for figures from the neuron model alone."""

    name: str
    draw: Draw
    redraws: str  # the seed figure, e.g. "PLIF paper Fig. 7; per-neuron study Fig. 2"
    needs_runs: bool = True  # False: drawn from the neuron model itself, no run needed
    max_runs: int | None = None  # None: any number of runs
    options: Mapping[str, str] = field(default_factory=dict)  # what each option of ``draw`` means, for --help


FIGURES: dict[str, FigureSpec] = {}


def register_figure(
    name: str, redraws: str, needs_runs: bool = True, max_runs: int | None = None, options: Mapping[str, str] | None = None
) -> Callable[[Draw], Draw]:
    """Decorator adding a figure to :data:`FIGURES`; ``options`` says what each keyword of the draw function means."""

    def add(draw: Draw) -> Draw:
        if name in FIGURES:
            raise ValueError(f"a figure named {name!r} is already registered")
        FIGURES[name] = FigureSpec(name, draw, redraws, needs_runs, max_runs, dict(options or {}))
        return draw

    return add


def figure_spec(name: str) -> FigureSpec:
    """The figure ``name``, or a ValueError listing the known ones."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known figures: {', '.join(sorted(FIGURES))}")
    return FIGURES[name]


def figure_options(spec: FigureSpec) -> dict[str, object] | None:
    """The options a figure takes (its draw function's keywords after ``runs``) with their defaults; None: any."""
    parameters = list(inspect.signature(spec.draw).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name: p.default for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}


def draw_figure(name: str, runs: list[RunRecords], **options: object) -> Figure:
    """Draw figure ``name`` from ``runs`` (checked against what the figure takes)."""
    spec = figure_spec(name)
    known = figure_options(spec)
    unknown = sorted(set(options) - set(known)) if known is not None else []
    if unknown:
        takes = ", ".join(known) or "none"
        raise ValueError(f"figure {name!r} has no option {', '.join(map(repr, unknown))}; its options: {takes} (spikedyn plot {name} --help)")
    if spec.needs_runs and not runs:
        raise ValueError(f"figure {name!r} is drawn from runs: give at least one run folder")
    if spec.max_runs is not None and len(runs) > spec.max_runs:
        raise ValueError(f"figure {name!r} takes at most {spec.max_runs} run(s), got {len(runs)}")
    return spec.draw(runs, **options)

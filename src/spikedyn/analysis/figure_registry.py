"""Figures by name: what each draws, from what, and which seed figure it redraws."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


FIGURES: dict[str, FigureSpec] = {}


def register_figure(name: str, redraws: str, needs_runs: bool = True, max_runs: int | None = None) -> Callable[[Draw], Draw]:
    """Decorator adding a figure to :data:`FIGURES`."""

    def add(draw: Draw) -> Draw:
        if name in FIGURES:
            raise ValueError(f"a figure named {name!r} is already registered")
        FIGURES[name] = FigureSpec(name, draw, redraws, needs_runs, max_runs)
        return draw

    return add


def figure_spec(name: str) -> FigureSpec:
    """The figure ``name``, or a ValueError listing the known ones."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known figures: {', '.join(sorted(FIGURES))}")
    return FIGURES[name]


def draw_figure(name: str, runs: list[RunRecords], **options: object) -> Figure:
    """Draw figure ``name`` from ``runs`` (checked against what the figure takes)."""
    spec = figure_spec(name)
    if spec.needs_runs and not runs:
        raise ValueError(f"figure {name!r} is drawn from runs: give at least one run folder")
    if spec.max_runs is not None and len(runs) > spec.max_runs:
        raise ValueError(f"figure {name!r} takes at most {spec.max_runs} run(s), got {len(runs)}")
    return spec.draw(runs, **options)

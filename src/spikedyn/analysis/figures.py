"""Every figure, registered: import this module to fill :data:`FIGURES`."""

from spikedyn.analysis import curves, imp_figures, model_figures, raster_figure, speed_figure, tau_figures  # noqa: F401
from spikedyn.analysis.figure_registry import FIGURES, FigureSpec, draw_figure, figure_spec

__all__ = ["FIGURES", "FigureSpec", "draw_figure", "figure_spec"]

"""Saving figures headless: PNG plus a vector copy, written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from spikedyn.atomic import write_bytes_atomically  # noqa: E402

VECTOR_FORMATS = ("svg", "pdf")


#: Metadata that would make the same figure differ from one save to the next (a date), left out.
_UNDATED = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}


def figure_bytes(figure: Figure, fmt: str = "png", dpi: int = 150) -> bytes:
    """The figure rendered to ``fmt`` (png, svg or pdf), the same bytes for the same figure: no date, fixed SVG ids."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "spikedyn"}):
        figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_UNDATED.get(fmt, {}))
    return buffer.getvalue()


def save_figure(figure: Figure, out: str | os.PathLike[str], vector: str = "svg") -> list[Path]:
    """Write ``out`` as PNG and the same figure as ``vector`` (svg or pdf) beside it; returns both paths."""
    if vector not in VECTOR_FORMATS:
        raise ValueError(f"vector format {vector!r} is not supported; expected one of {list(VECTOR_FORMATS)}")
    png = Path(out).with_suffix(".png")
    other = png.with_suffix(f".{vector}")
    for path, fmt in ((png, "png"), (other, vector)):
        write_bytes_atomically(path, figure_bytes(figure, fmt), durable=False)
    return [png, other]

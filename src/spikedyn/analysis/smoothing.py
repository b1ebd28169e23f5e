"""Trailing moving averages of per-epoch curves (the seeds' 64-epoch smoothing)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _check_window(window: object) -> int:
    """``window`` as an int >= 1, or a ValueError saying what it got."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    return window


def moving_average(values: Sequence[float], window: int = 64) -> list[float]:
    """The mean of the last ``window`` values at each position (of all values so far at the start)."""
    window = _check_window(window)
    values = [float(value) for value in values]
    return [math.fsum(values[max(0, i + 1 - window) : i + 1]) / min(i + 1, window) for i in range(len(values))]


def clamped_window(window: int, length: int) -> int:
    """The window a series of ``length`` values really gets: ``window``, or ``length`` when shorter (so a figure can say so)."""
    return min(_check_window(window), max(int(length), 1))

"""Trailing moving averages of per-epoch curves (the seeds' 64-epoch smoothing)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def moving_average(values: Sequence[float], window: int = 64) -> list[float]:
    """The mean of the last ``window`` values at each position (of all values so far at the start)."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    values = [float(value) for value in values]
    return [math.fsum(values[max(0, i + 1 - window) : i + 1]) / min(i + 1, window) for i in range(len(values))]

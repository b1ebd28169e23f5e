"""Tonic-style event arrays for the tests."""

from __future__ import annotations

import numpy as np

EVENT_DTYPE = np.dtype([("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])


def make_events(x, y, t, p) -> np.ndarray:
    """A structured array with fields x, y, t, p from four equal-length sequences."""
    events = np.zeros(len(x), dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x, y, t, p
    return events


def random_events(count: int, width: int, height: int, seed: int = 0, duration_us: int = 1_000_000) -> np.ndarray:
    """``count`` random events sorted by time on a width x height two-polarity sensor."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, duration_us, count))
    return make_events(rng.integers(0, width, count), rng.integers(0, height, count), t, rng.integers(0, 2, count))

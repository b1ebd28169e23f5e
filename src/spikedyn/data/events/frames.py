"""Event streams to frames: Eq. S1 of the PLIF paper (equal event counts) or equal durations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SPLIT_BY = ("number", "time")


def _check_events(events: np.ndarray, sensor_size: Sequence[int]) -> tuple[int, int, int]:
    if not isinstance(events, np.ndarray) or events.dtype.names is None:
        raise TypeError(f"events must be a structured numpy array with fields x, y, t, p, got {type(events).__name__}")
    missing = [f for f in ("x", "y", "t", "p") if f not in events.dtype.names]
    if missing:
        raise ValueError(f"events lack the field(s) {missing}; expected fields x, y, t, p (tonic's layout), got {events.dtype.names}")
    if len(sensor_size) != 3 or not all(isinstance(d, (int, np.integer)) and d > 0 for d in sensor_size):
        raise ValueError(f"sensor_size must be (W, H, P) with positive ints, as tonic gives it, got {sensor_size!r}")
    width, height, polarities = (int(d) for d in sensor_size)
    if len(events):
        for field, bound in (("x", width), ("y", height), ("p", polarities)):
            values = events[field]
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= bound:
                raise ValueError(f"event field {field} spans [{low}, {high}], outside the sensor's [0, {bound}) (sensor_size={tuple(sensor_size)})")
    return width, height, polarities


def in_time_order(events: np.ndarray) -> np.ndarray:
    """``events`` sorted by timestamp, stably (equal timestamps keep their stored order); returned as is when already sorted.

    Event files are usually, but not always, written in time order, and Eq. S1 slices by position.
    """
    t = events["t"]
    if len(t) < 2 or bool(np.all(t[1:] >= t[:-1])):
        return events
    return events[np.argsort(t, kind="stable")]


def _slice_by_number(count: int, steps: int) -> np.ndarray:
    """Eq. S1: slice j holds events j*floor(N/T) .. (j+1)*floor(N/T) - 1, the last slice the remainder."""
    per_slice = count // steps
    if per_slice == 0:
        return np.full(count, steps - 1, dtype=np.int64)
    return np.minimum(np.arange(count, dtype=np.int64) // per_slice, steps - 1)


def _slice_by_time(t: np.ndarray, steps: int) -> np.ndarray:
    """T windows of equal duration from the first to the last timestamp; the last window includes its end."""
    t = t.astype(np.int64)
    start, span = int(t.min()), int(t.max() - t.min())
    if span == 0:
        return np.zeros(len(t), dtype=np.int64)
    return np.minimum((t - start) * steps // span, steps - 1)


def events_to_frames(events: np.ndarray, sensor_size: Sequence[int], T: int, split_by: str = "number") -> np.ndarray:
    """Count events per (slice, polarity, y, x): frames [T, P, H, W] float32.

    ``split_by="number"`` is Eq. S1 of the PLIF paper: N events in time order (sorted stably by
    timestamp if the sample is not already), T slices of floor(N/T) events each, the last taking
    the remainder (so with N < T all of them). With ``"time"`` the slices are T windows of equal
    duration, each event counted in the window of its own timestamp, whatever the stored order.
    Events are tonic-style structured arrays (fields x, y, t, p; polarity p in [0, P));
    ``sensor_size`` is (W, H, P) as tonic gives it. Any sample, even one with no events, gives T frames.
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    if split_by not in SPLIT_BY:
        raise ValueError(f"split_by={split_by!r} is not supported; expected one of {list(SPLIT_BY)}")
    width, height, polarities = _check_events(events, sensor_size)
    frames_shape = (int(T), polarities, height, width)
    if len(events) == 0:
        return np.zeros(frames_shape, dtype=np.float32)
    if split_by == "number":
        events = in_time_order(events)
        step = _slice_by_number(len(events), int(T))
    else:
        step = _slice_by_time(events["t"], int(T))
    flat = ((step * polarities + events["p"].astype(np.int64)) * height + events["y"].astype(np.int64)) * width
    flat += events["x"].astype(np.int64)
    counts = np.bincount(flat, minlength=int(np.prod(frames_shape)))
    return counts.reshape(frames_shape).astype(np.float32)

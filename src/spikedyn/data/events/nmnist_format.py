"""Events to N-MNIST .bin files that tonic's ``read_mnist_file`` reads back exactly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spikedyn.atomic import write_bytes_atomically

#: tonic's NMNIST.dtype: what ``tonic.io.read_mnist_file`` is given and what this module writes from.
NMNIST_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])
#: A record with this y is a timestamp-overflow record, not an event.
OVERFLOW_Y = 240
#: A record's own timestamp has 23 bits.
TIMESTAMP_BITS = 23
#: What tonic adds to every later timestamp per overflow record (its reading of the format).
OVERFLOW_INCREMENT = 2**13
#: tonic accumulates timestamps in uint32, so later ones wrap: this is the first it cannot recover.
MAX_TIMESTAMP = 2**32


def _as_integers(name: str, values: object) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind in "biu":
        return array.astype(np.int64)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.floor(array)):
        return array.astype(np.int64)
    raise ValueError(f"{name} must hold integers, got dtype {array.dtype}" + (" with non-integer values" if array.dtype.kind == "f" else ""))


def _check_range(name: str, values: np.ndarray, low: int, high: int) -> None:
    if len(values) and (values.min() < low or values.max() >= high):
        raise ValueError(f"{name} spans [{values.min()}, {values.max()}], outside the N-MNIST format's [{low}, {high})")


def encode_nmnist_events(x: object, y: object, t: object, p: object) -> bytes:
    """N-MNIST records (5 bytes per event) of events with pixel x, y, time t (us) and polarity p.

    Timestamps have 23 bits; tonic's reader adds 2**13 to all later timestamps per overflow
    record (y == 240), so a later time is written as enough overflow records before it plus
    the remainder. tonic sums in uint32, so t must stay below 2**32.
    """
    x, y, t, p = (_as_integers(name, v) for name, v in (("x", x), ("y", y), ("t", t), ("p", p)))
    if not len(x) == len(y) == len(t) == len(p):
        raise ValueError(f"x, y, t, p must have the same length, got {len(x)}, {len(y)}, {len(t)}, {len(p)}")
    _check_range("x", x, 0, 256)
    _check_range("y", y, 0, 256)
    if np.any(y == OVERFLOW_Y):
        raise ValueError(f"y == {OVERFLOW_Y} cannot be written: the N-MNIST format reserves it for timestamp-overflow records")
    if np.any((p != 0) & (p != 1)):
        raise ValueError(f"p must be 0 or 1, got values {np.unique(p[(p != 0) & (p != 1)])[:5].tolist()}")
    _check_range("t", t, 0, MAX_TIMESTAMP)
    if np.any(np.diff(t) < 0):
        first = int(np.flatnonzero(np.diff(t) < 0)[0])
        raise ValueError(f"t must be non-decreasing (sorted by time), but t[{first}]={t[first]} > t[{first + 1}]={t[first + 1]}")

    # overflow records needed before each event: the fewest that bring its remainder below 2**23
    limit = 2**TIMESTAMP_BITS
    overflows = np.where(t >= limit, (t - limit) // OVERFLOW_INCREMENT + 1, 0)
    stamp = t - overflows * OVERFLOW_INCREMENT
    records = np.zeros((len(t) + (int(overflows[-1]) if len(t) else 0), 5), dtype=np.uint8)
    records[:, 1] = OVERFLOW_Y
    rows = np.arange(len(t)) + overflows
    records[rows, 0] = x
    records[rows, 1] = y
    records[rows, 2] = (p << 7) | (stamp >> 16)
    records[rows, 3] = (stamp >> 8) & 0xFF
    records[rows, 4] = stamp & 0xFF
    return records.tobytes()


def write_nmnist_file(path: str | os.PathLike[str], events: np.ndarray) -> Path:
    """Write tonic-style events (structured array with fields x, y, t, p) as an N-MNIST .bin file, atomically."""
    if not isinstance(events, np.ndarray) or events.dtype.names is None:
        raise TypeError(f"events must be a structured numpy array with fields x, y, t, p, got {type(events).__name__}")
    missing = [f for f in ("x", "y", "t", "p") if f not in events.dtype.names]
    if missing:
        raise ValueError(f"events lack the field(s) {missing}; expected fields x, y, t, p (tonic's layout), got {events.dtype.names}")
    return write_bytes_atomically(path, encode_nmnist_events(events["x"], events["y"], events["t"], events["p"]))

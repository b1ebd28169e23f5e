"""N-MNIST .bin writing: tonic's reader gets back exactly what was written, bad events are refused."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tonic

from spikedyn.data.events import nmnist_format as nmnist_format
from spikedyn.data.events.nmnist_format import (
    NMNIST_DTYPE,
    encode_nmnist_events,
    write_nmnist_file,
)

from .events import make_events


def _events(t: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 255, len(t))
    y[y == 240] = 239
    return make_events(rng.integers(0, 256, len(t)), y, t, rng.integers(0, 2, len(t)))


def _round_trip(tmp_path, events: np.ndarray) -> np.ndarray:
    path = write_nmnist_file(tmp_path / "sample.bin", events)
    return tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)


def test_dtype_is_tonics_nmnist_dtype():
    assert NMNIST_DTYPE == tonic.datasets.NMNIST.dtype


def test_round_trip_short_recording(tmp_path):
    t = np.sort(np.random.default_rng(1).integers(0, 300_000, 2000))
    events = _events(t)
    back = _round_trip(tmp_path, events)
    assert back.dtype == NMNIST_DTYPE
    np.testing.assert_array_equal(back, events.astype(NMNIST_DTYPE))
    assert (tmp_path / "sample.bin").stat().st_size == 5 * len(events)  # no overflow records needed


def test_round_trip_long_recording_with_overflow(tmp_path):
    limit, step = 2**23, 2**13
    edges = [0, limit - 1, limit, limit + step - 1, limit + step, limit + 7 * step + 5]
    t = np.sort(np.concatenate([edges, np.random.default_rng(2).integers(0, limit + 40 * step, 3000)]))
    events = _events(t, seed=3)
    back = _round_trip(tmp_path, events)
    np.testing.assert_array_equal(back, events.astype(NMNIST_DTYPE))
    raw = np.fromfile(tmp_path / "sample.bin", dtype=np.uint8).reshape(-1, 5)
    assert (raw[:, 1] == nmnist_format.OVERFLOW_Y).sum() > 0  # the later timestamps did need overflow records


def test_round_trip_of_no_events(tmp_path):
    back = _round_trip(tmp_path, make_events([], [], [], []))
    assert len(back) == 0 and (tmp_path / "sample.bin").stat().st_size == 0


def test_encoding_is_five_bytes_big_endian():
    data = encode_nmnist_events([3], [7], [0x123456], [1])
    assert data == bytes([3, 7, 0x80 | 0x12, 0x34, 0x56])


@pytest.mark.parametrize(
    "x, y, t, p, message",
    [
        ([256], [0], [0], [0], "x spans"),
        ([-1], [0], [0], [0], "x spans"),
        ([0], [240], [0], [0], "240"),
        ([0], [256], [0], [0], "y spans"),
        ([0], [0], [0], [2], "p must be 0 or 1"),
        ([0, 0], [0, 0], [5, 4], [0, 0], "non-decreasing"),
        ([0], [0], [-1], [0], "t spans"),
        ([0], [0], [2**32], [0], "t spans"),
        ([0], [0], [0.5], [0], "integers"),
        ([0, 1], [0], [0], [0], "same length"),
    ],
)
def test_bad_events_are_refused(x, y, t, p, message):
    with pytest.raises(ValueError, match=message):
        encode_nmnist_events(x, y, t, p)


def test_largest_timestamp_tonic_can_hold_is_accepted():
    data = encode_nmnist_events([0], [0], [2**32 - 1], [0])
    assert len(data) % 5 == 0


def test_write_refuses_arrays_without_the_fields(tmp_path):
    with pytest.raises(TypeError, match="structured"):
        write_nmnist_file(tmp_path / "a.bin", np.zeros(3))
    with pytest.raises(ValueError, match="lack the field"):
        write_nmnist_file(tmp_path / "a.bin", np.zeros(3, dtype=[("x", int), ("y", int), ("t", int)]))


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "sample.bin"
    old = _events(np.arange(10))
    write_nmnist_file(path, old)
    before = path.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_nmnist_file(path, _events(np.arange(20), seed=5))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.bin"]


def test_bad_events_leave_no_file(tmp_path):
    with pytest.raises(ValueError):
        write_nmnist_file(tmp_path / "sub" / "a.bin", make_events([0], [240], [0], [0]))
    assert not (tmp_path / "sub" / "a.bin").exists()

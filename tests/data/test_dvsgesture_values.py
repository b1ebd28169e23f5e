"""DVS128 Gesture's .npy values are checked as stored, before any cast could wrap or round them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data.events.errors import EventFileError
from spikedyn.data.events.sources import DVSGESTURE_SOURCE
from tests.data.event_files import write_dvsgesture_npy
from tests.data.events import random_events

COLUMNS = {"x": 0, "y": 1, "p": 2, "t": 3}


def _table(dtype=np.int64) -> np.ndarray:
    events = random_events(20, 128, 128, seed=4)
    return np.stack([events["x"], events["y"], events["p"], events["t"] // 1000], axis=1).astype(dtype)


def _write(tmp_path: Path, table: np.ndarray) -> Path:
    path = tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led" / "3.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, table)
    return path


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("x", 65541, r"field x spans \[.*, 65541\], expected integers in \[0, 127\]"),  # int16 would wrap it to 5
        ("y", -1, r"field y spans \[-1, .*\]"),
        ("p", 7, r"field p spans \[.*, 7\], expected integers in \[0, 1\]"),  # bool would read it as 1
        ("t", -3, r"field t spans \[-3, "),
        ("t", 2**62, r"field t spans .*expected numbers in \[0, 9223372036854775\]"),  # t * 1000 would overflow int64
    ],
)
def test_values_out_of_range_name_the_file_and_the_field(tmp_path, field, value, fragment):
    table = _table()
    table[5, COLUMNS[field]] = value
    path = _write(tmp_path, table)
    with pytest.raises(EventFileError, match=rf"{path}: {fragment}"):
        DVSGESTURE_SOURCE.read(path)


@pytest.mark.parametrize(
    "field, value, fragment",
    [("x", 3.5, "field x holds the non-integer 3.5"), ("p", np.nan, "field p holds non-finite"), ("t", np.inf, "field t holds non-finite")],
)
def test_float_values_must_be_finite_and_whole_where_counts_are_expected(tmp_path, field, value, fragment):
    table = _table(np.float64)
    table[2, COLUMNS[field]] = value
    path = _write(tmp_path, table)
    with pytest.raises(EventFileError, match=rf"{path}: {fragment}"):
        DVSGESTURE_SOURCE.read(path)


def test_a_table_of_strings_names_the_field(tmp_path):
    path = _write(tmp_path, _table().astype(str))
    with pytest.raises(EventFileError, match=rf"{path}: field x holds <U\d+ values"):
        DVSGESTURE_SOURCE.read(path)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64, np.float32])
def test_sound_tables_of_any_numeric_dtype_read_as_tonic_reads_them(tmp_path, dtype):
    events = random_events(20, 128, 128, seed=4)
    path = tmp_path / "1.npy"
    write_dvsgesture_npy(path, events)
    np.save(path, np.load(path).astype(dtype))
    read = DVSGESTURE_SOURCE.read(path)
    for field in ("x", "y", "p"):
        np.testing.assert_array_equal(read[field].astype(np.int64), events[field])
    np.testing.assert_array_equal(read["t"], events["t"] // 1000 * 1000)


def test_fractional_milliseconds_are_rounded_to_the_microsecond(tmp_path):
    table = _table(np.float64)
    table[:, 3] = np.arange(len(table)) * 0.001 + 12.345  # 12.345 * 1000 is 12344.999... in binary
    read = DVSGESTURE_SOURCE.read(_write(tmp_path, table))
    np.testing.assert_array_equal(read["t"], 12345 + np.arange(len(table)))


def _read_with_warnings_as_errors(path: Path) -> np.ndarray:
    """The events of ``path``; a numpy warning (overflow, invalid cast) fails the test instead of passing by."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return DVSGESTURE_SOURCE.read(path)


@pytest.mark.drill
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_tables_of_ordinary_timestamps_read_exactly_without_a_warning(tmp_path, dtype):
    # Before: float16 t * 1000 overflowed to inf and every t read as INT64_MIN, with three numpy warnings.
    table = _table()
    table[:, 3] = 1000 + 7 * np.arange(len(table))  # float16 holds every integer up to 2048 exactly
    table[-1, 3] = 65504  # float16's largest number
    read = _read_with_warnings_as_errors(_write(tmp_path, table.astype(dtype)))
    np.testing.assert_array_equal(read["t"], table[:, 3] * 1000)


@pytest.mark.drill
@pytest.mark.parametrize(
    "dtype, value, shown",
    [
        (np.float64, 9223372036854775.0, "9223372036854776.0"),  # rounds up past int64.max // 1000; t * 1000 wrapped to INT64_MIN
        (np.float32, 9223372036854775.0, "9223372474941440.0"),
        (np.uint64, 2**64 - 1, "18446744073709551615"),
    ],
)
def test_a_t_past_int64_microseconds_is_an_error_never_a_wrap_or_a_warning(tmp_path, dtype, value, shown):
    table = _table().astype(dtype)
    table[3, 3] = value
    path = _write(tmp_path, table)
    with pytest.raises(EventFileError, match=rf"{path}: field t spans \[.*, {shown}\], expected numbers in \[0, 9223372036854775\]"):
        _read_with_warnings_as_errors(path)


def test_the_largest_float_t_in_range_reads_without_wrapping(tmp_path):
    table = _table(np.float64)
    table[3, 3] = 9223372036854774.0  # the largest float64 <= int64.max // 1000
    read = _read_with_warnings_as_errors(_write(tmp_path, table))
    assert read["t"][3] == 2**63 - 2048 and read["t"].min() >= 0

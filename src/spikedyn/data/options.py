"""Checks of dataset options: every error names the option key, what it got and what it expects.

The error is an :class:`OptionError`, both a ValueError and a TypeError, so callers catch a bad
option the way they already do whether its type or its value is wrong.

Sizes are bounded before anything is allocated: an option that implies more memory than
:data:`MAX_SAMPLE_BYTES` per sample, or :data:`MAX_IN_MEMORY_BYTES` for a dataset held in
memory, is refused with the size it would take.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

#: The most steps a sample may have: frames [T, C, H, W] are materialised per batch.
MAX_TIME_STEPS = 4096
#: The largest side, in pixels, an option may ask frames to be resized or cropped to.
MAX_SIDE = 4096
#: The most bytes the float32 frames [T, C, H, W] of one sample may take.
MAX_SAMPLE_BYTES = 1 << 30
#: The most bytes a dataset held whole in memory (digits) may take.
MAX_IN_MEMORY_BYTES = 8 << 30


class OptionError(ValueError, TypeError):
    """A dataset option with a bad type or value; ``key`` names the option."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return type(self), (self.key, str(self))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_bool(key: str, value: object) -> bool:
    """``value`` if it is True or False; strings such as "off" are refused, not read as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise OptionError(key, f"{key} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_int(key: str, value: object, low: int, high: int | None = None, why: str = "") -> int:
    """``value`` as an int if it is one in [low, high] (no upper bound if ``high`` is None)."""
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    reason = f" ({why})" if why else ""
    if not _is_int(value):
        raise OptionError(key, f"{key} must be an int {bounds}{reason}, got {value!r} ({type(value).__name__})")
    if value < low or (high is not None and value > high):
        raise OptionError(key, f"{key} must be an int {bounds}{reason}, got {value!r}")
    return int(value)


def check_optional_int(key: str, value: object, low: int, high: int | None = None, why: str = "") -> int | None:
    """None, or ``value`` checked by :func:`check_int`."""
    return None if value is None else check_int(key, value, low, high, why or "or None")


def check_time_steps(value: object, key: str = "time_steps") -> int:
    """The number of time steps T: an int in [1, :data:`MAX_TIME_STEPS`]."""
    return check_int(key, value, 1, MAX_TIME_STEPS)


def check_side(key: str, value: object) -> int:
    """A frame side in pixels (resize, crop): an int in [1, :data:`MAX_SIDE`]."""
    return check_int(key, value, 1, MAX_SIDE)


def check_fraction(key: str, value: object, low_open: bool = False) -> float:
    """A share of each class: a number in [0, 1), or (0, 1) with ``low_open``."""
    expected = "(0, 1)" if low_open else "[0, 1)"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OptionError(key, f"{key} must be a number in {expected}, got {value!r} ({type(value).__name__})")
    if not (0.0 < value < 1.0 if low_open else 0.0 <= value < 1.0):
        raise OptionError(key, f"{key} must be a number in {expected}, got {value!r}")
    return float(value)


def check_choice(key: str, value: object, choices: Sequence[object]) -> object:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        raise OptionError(key, f"{key}={value!r} is not known; expected one of {list(choices)}")
    return value


def check_path(key: str, value: object, optional: bool = False) -> str | os.PathLike[str] | None:
    """A folder given as a str or os.PathLike (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)) or (isinstance(value, str) and not value):
        expected = "a folder path (str or pathlib.Path)" + (" or None" if optional else "")
        raise OptionError(key, f"{key} must be {expected}, got {value!r}")
    return value


def format_bytes(count: float) -> str:
    """``count`` bytes for people: "291.3 GiB"."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    raise AssertionError("unreachable")


def check_memory(key: str, what: str, shape: Sequence[int], limit: int, itemsize: int = 4, hint: str = "") -> None:
    """Refuse option ``key`` if ``what``, an array of ``shape`` (float32 unless ``itemsize`` says otherwise), would exceed ``limit`` bytes."""
    size = math.prod(int(d) for d in shape) * itemsize
    if size > limit:
        dims = "x".join(str(int(d)) for d in shape)
        tail = f"; {hint}" if hint else ""
        raise OptionError(key, f"{what} would take {format_bytes(size)} ({dims} values of {itemsize} bytes), over the limit of {format_bytes(limit)}{tail}")


def check_sample_size(options: dict[str, object], time_steps: int, frame_shape: Sequence[int]) -> None:
    """Refuse ``options`` (key -> value) if the frames [T, C, H, W] float32 of one sample exceed :data:`MAX_SAMPLE_BYTES`."""
    given = ", ".join(f"{key}={value!r}" for key, value in options.items())
    what = f"one sample's frames [T, C, H, W] with {given}"
    check_memory(", ".join(options), what, (time_steps, *frame_shape), MAX_SAMPLE_BYTES, hint="use fewer time steps or smaller frames")

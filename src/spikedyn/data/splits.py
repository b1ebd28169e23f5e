"""Train/validation/test splits: per class, reproducible from a seed or from the dataset's order, never overlapping."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from spikedyn.data.options import OptionError, check_fraction, check_optional_int

#: The splits every dataset serves; "val" is carved out of the official training set.
SPLITS = ("train", "val", "test")
#: The PLIF paper's protocol B: 15% of each class of the training set for validation.
VALIDATION_FRACTION = 0.15
#: Which end of each class's file order is the test part, for datasets without an official split.
TEST_PARTS = ("last", "first")


def check_split(split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS`, else raise a ValueError naming them."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not known; expected one of {list(SPLITS)}")
    return split


def check_split_seed(seed: int | None) -> int | None:
    """``seed`` if it is an int >= 0 (a random split) or None (the split in dataset order), else an error naming split_seed."""
    return check_optional_int("split_seed", seed, 0, why="a random per-class split, or None for the per-class split in dataset order")


def check_test_part(test_part: str) -> str:
    """``test_part`` if it is one of :data:`TEST_PARTS`, else a ValueError naming them."""
    if test_part not in TEST_PARTS:
        raise OptionError("test_part", f"test_part={test_part!r} is not known; expected one of {list(TEST_PARTS)} (which end of each class's files is the test part)")
    return test_part


def _first_of_each_class(labels: np.ndarray, count: Callable[[int], int]) -> tuple[np.ndarray, np.ndarray]:
    """(first, rest) sorted index arrays: the first count(n_c) members of each class c in the given order, and the others."""
    first: list[np.ndarray] = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        first.append(members[: count(len(members))])
    chosen = np.sort(np.concatenate(first)) if first else np.empty(0, dtype=np.int64)
    return chosen, np.setdiff1d(np.arange(len(labels)), chosen)


def first_of_each_class(labels: np.ndarray, count: int) -> np.ndarray:
    """Sorted indices of the first ``count`` members of each class in the given order (all of a smaller class): a fixed class-balanced subset."""
    return _first_of_each_class(np.asarray(labels), lambda n: min(n, count))[0]


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int | None, key: str = "val_fraction") -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) sorted index arrays: a ``fraction`` of each class held out, at random or in order.

    With an int ``seed``, round(fraction * n_c) random samples of each class c are held out; the
    same labels, fraction and seed always give the same split, whatever the machine. With
    ``seed=None`` the split follows the dataset's order, as the PLIF authors' ``split_dataset``
    (codes/train_val.py L22-40) does: the first ceil((1 - fraction) * n_c) samples of each class
    are kept, the rest held out. ``fraction=0`` keeps everything in both cases. ``key`` is the
    option that gave ``fraction``, for the error that refuses it.
    """
    labels = np.asarray(labels)
    fraction = check_fraction(key, fraction)
    if check_split_seed(seed) is None:
        return _first_of_each_class(labels, lambda n: math.ceil(n * (1.0 - fraction)))
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        count = int(round(fraction * len(members)))
        held.append(rng.permutation(members)[:count])
    held_out = np.sort(np.concatenate(held)) if held else np.empty(0, dtype=np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), held_out)
    return kept, held_out


def split_by_file_order(labels: np.ndarray, train_fraction: float, test_part: str = "last") -> tuple[np.ndarray, np.ndarray]:
    """(train, test) sorted index arrays: of each class in the given order, n_c - round(train_fraction * n_c) at one end test.

    ``test_part="last"``: the last files of each class are the test part (CIFAR10-DVS in the PLIF
    paper: the first 900 of each class train, the last 100 test). ``"first"``: the first files are
    (the IMP paper's code, amazing-cls ``amzcls/datasets/cifar10dvs_legacy.py`` L54-71: files
    ``cifar10_<class>_0`` .. ``_99`` test, ``_100`` .. ``_999`` train). No seed is involved.
    """
    labels = np.asarray(labels)
    train_fraction = check_fraction("train_fraction", train_fraction, low_open=True)
    if check_test_part(test_part) == "last":
        return _first_of_each_class(labels, lambda n: int(round(train_fraction * n)))
    test, train = _first_of_each_class(labels, lambda n: n - int(round(train_fraction * n)))
    return train, test


def split_indices(split: str, train_labels: np.ndarray, val_fraction: float = VALIDATION_FRACTION, seed: int | None = 0) -> np.ndarray:
    """Indices into the official training set for split "train" (what remains) or "val" (the held-out part).

    ``seed=None`` splits in dataset order (see :func:`stratified_holdout`); ``val_fraction=0``
    gives "train" everything and "val" nothing (protocol A).
    """
    if split not in ("train", "val"):
        raise ValueError(f"split_indices serves 'train' and 'val' (parts of the training set), got {split!r}")
    kept, held_out = stratified_holdout(train_labels, val_fraction, seed)
    return kept if split == "train" else held_out

"""Train/validation/test splits: per-class, reproducible from a seed, never overlapping."""

from __future__ import annotations

import numpy as np

#: The splits every dataset serves; "val" is carved out of the official training set.
SPLITS = ("train", "val", "test")
#: The PLIF paper's protocol B: 15% of each class of the training set for validation.
VALIDATION_FRACTION = 0.15


def check_split(split: str) -> str:
    """Return ``split`` if it is one of :data:`SPLITS`, else raise a ValueError naming them."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not known; expected one of {list(SPLITS)}")
    return split


def _check_fraction(fraction: float) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise ValueError(f"the held-out fraction must be a number in [0, 1), got {fraction!r}")
    return float(fraction)


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) sorted index arrays: round(fraction * n_c) random samples of each class c held out.

    The same labels, fraction and seed always give the same split, whatever the machine.
    """
    labels = np.asarray(labels)
    fraction = _check_fraction(fraction)
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        count = int(round(fraction * len(members)))
        held.append(rng.permutation(members)[:count])
    held_out = np.sort(np.concatenate(held)) if held else np.empty(0, dtype=np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), held_out)
    return kept, held_out


def first_per_class(labels: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(first, rest): the first round(fraction * n_c) samples of each class in the given order, and the others.

    CIFAR10-DVS in the PLIF paper: the first 900 files of each class for training (0.9), the last
    100 for test. The order is the dataset's file order, so the split needs no seed.
    """
    labels = np.asarray(labels)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise ValueError(f"the per-class fraction must be a number in (0, 1), got {fraction!r}")
    first: list[np.ndarray] = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        first.append(members[: int(round(fraction * len(members)))])
    chosen = np.sort(np.concatenate(first)) if first else np.empty(0, dtype=np.int64)
    return chosen, np.setdiff1d(np.arange(len(labels)), chosen)


def split_indices(split: str, train_labels: np.ndarray, val_fraction: float = VALIDATION_FRACTION, seed: int = 0) -> np.ndarray:
    """Indices into the official training set for split "train" (what remains) or "val" (the held-out part)."""
    if split not in ("train", "val"):
        raise ValueError(f"split_indices serves 'train' and 'val' (parts of the training set), got {split!r}")
    kept, held_out = stratified_holdout(train_labels, val_fraction, seed)
    return kept if split == "train" else held_out

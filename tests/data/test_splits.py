"""Per-class splits: random from a seed, or in dataset order as the PLIF and IMP authors' code splits."""

import math

import numpy as np
import pytest

from spikedyn.data.splits import split_by_file_order, split_indices, stratified_holdout

# Classes of 7, 20 and 13 members, interleaved, so "in order" is not "contiguous".
LABELS = np.array([0, 1, 2] * 7 + [1, 2] * 6 + [1] * 7)


def by_hand(labels: np.ndarray, val_fraction: float) -> tuple[list[int], list[int]]:
    """The PLIF code's split_dataset: the first ceil(n_c * (1 - val_fraction)) of each class train, the rest validate."""
    train, val = [], []
    for cls in sorted(set(labels.tolist())):
        members = [i for i, label in enumerate(labels) if label == cls]
        pos = math.ceil(len(members) * (1 - val_fraction))
        train += members[:pos]
        val += members[pos:]
    return sorted(train), sorted(val)


@pytest.mark.parametrize("val_fraction", [0.15, 0.3, 0.5, 0.0])
def test_the_ordered_split_is_the_plif_codes_split_dataset(val_fraction):
    kept, held_out = stratified_holdout(LABELS, val_fraction, seed=None)
    train, val = by_hand(LABELS, val_fraction)
    assert kept.tolist() == train and held_out.tolist() == val
    assert not set(kept) & set(held_out) and sorted([*kept, *held_out]) == list(range(len(LABELS)))
    assert split_indices("train", LABELS, val_fraction, None).tolist() == train
    assert split_indices("val", LABELS, val_fraction, None).tolist() == val


def test_the_ordered_split_rounds_up_the_training_part():
    # 7 members, 15% held out: ceil(5.95) = 6 train, 1 val; 13: ceil(11.05) = 12, 1; 20: ceil(17.0) = 17, 3
    _, held_out = stratified_holdout(LABELS, 0.15, seed=None)
    assert np.bincount(LABELS[held_out]).tolist() == [1, 3, 1]


def test_val_fraction_zero_keeps_everything_for_training_with_or_without_a_seed():
    for seed in (0, 7, None):
        kept, held_out = stratified_holdout(LABELS, 0.0, seed)
        assert kept.tolist() == list(range(len(LABELS))) and held_out.size == 0
        assert split_indices("val", LABELS, 0.0, seed).size == 0


def test_a_seeded_split_is_random_per_class_and_reproducible():
    kept, held_out = stratified_holdout(LABELS, 0.3, seed=1)
    assert np.bincount(LABELS[held_out]).tolist() == [round(0.3 * 7), round(0.3 * 20), round(0.3 * 13)]
    assert held_out.tolist() == stratified_holdout(LABELS, 0.3, seed=1)[1].tolist()
    assert any(stratified_holdout(LABELS, 0.3, seed=s)[1].tolist() != held_out.tolist() for s in range(2, 6))


@pytest.mark.parametrize("seed", ["0", 1.5, True])
def test_a_seed_that_is_neither_an_int_nor_none_is_refused(seed):
    with pytest.raises(TypeError, match="split_seed must be an int .* or None"):
        stratified_holdout(LABELS, 0.15, seed)


def test_split_by_file_order_takes_the_test_part_from_either_end():
    labels = np.repeat(np.arange(3), 10)
    train, test = split_by_file_order(labels, 0.9, "last")
    assert test.tolist() == [9, 19, 29] and train.tolist() == sorted(set(range(30)) - {9, 19, 29})
    train, test = split_by_file_order(labels, 0.9, "first")
    assert test.tolist() == [0, 10, 20] and train.tolist() == sorted(set(range(30)) - {0, 10, 20})
    # the same sizes from either end, also where rounding is close: 5 files, 0.9 -> round(4.5) = 4 train
    odd = np.zeros(5, dtype=int)
    assert [len(part) for part in split_by_file_order(odd, 0.9, "first")] == [len(part) for part in split_by_file_order(odd, 0.9, "last")]


def test_split_by_file_order_refuses_unknown_ends_and_fractions():
    with pytest.raises(ValueError, match=r"test_part='middle' is not known; expected one of \['last', 'first'\]"):
        split_by_file_order(LABELS, 0.9, "middle")
    with pytest.raises(ValueError, match="train_fraction must be a number in \\(0, 1\\), got 1.0"):
        split_by_file_order(LABELS, 1.0)

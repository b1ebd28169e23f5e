"""Dataset "digits": scikit-learn's real 8x8 digits, a fixed stratified split, normalised frames over T."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import spikedyn.data.static.digits  # noqa: F401  (registers "digits")
from spikedyn.data.static.digits import digits_split
from spikedyn.data.registry import build_dataset, dataset_options, list_datasets

LABELS = load_digits().target
IMAGES = load_digits().images / 16.0


def _stats(split_seed: int = 0) -> tuple[float, float]:
    train = IMAGES[digits_split("train", split_seed)]
    return float(train.mean()), float(train.std())


def test_registered_with_its_options():
    assert "digits" in list_datasets()
    assert set(dataset_options("digits")) >= {"time_steps", "upscale", "augment", "split_seed"}


@pytest.mark.parametrize("seed", [0, 3])
def test_splits_partition_the_digits_per_class(seed):
    train, val, test = (digits_split(s, seed) for s in ("train", "val", "test"))
    every = np.concatenate([train, val, test])
    assert len(every) == len(LABELS) == 1797 and len(np.unique(every)) == len(every)
    for cls in range(10):
        members = int((LABELS == cls).sum())
        held_test = round(0.2 * members)
        held_val = round(0.15 * (members - held_test))
        assert (LABELS[test] == cls).sum() == held_test
        assert (LABELS[val] == cls).sum() == held_val
        assert (LABELS[train] == cls).sum() == members - held_test - held_val


def test_same_seed_same_split_other_seed_other_split():
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(digits_split(split, 0), digits_split(split, 0))
        assert not np.array_equal(digits_split(split, 0), digits_split(split, 1))


def test_dataset_sizes_labels_and_info():
    for split in ("train", "val", "test"):
        data = build_dataset("digits", split, time_steps=3)
        indices = digits_split(split, 0)
        assert len(data) == len(indices)
        np.testing.assert_array_equal(data.labels, LABELS[indices])
    info = data.info
    assert (info.name, info.num_classes, info.frame_shape, info.time_steps) == ("digits", 10, (1, 8, 8), 3)
    assert info.classes == tuple(str(d) for d in range(10))


def test_frames_are_the_normalised_image_repeated_over_time():
    data = build_dataset("digits", "test", time_steps=5)
    frames, label = data[7]
    assert frames.shape == (5, 1, 8, 8) and frames.dtype == torch.float32 and isinstance(label, int)
    for t in range(1, 5):
        assert torch.equal(frames[t], frames[0])
    mean, std = _stats()
    expected = (IMAGES[digits_split("test", 0)[7]] - mean) / std
    np.testing.assert_allclose(frames[0, 0].numpy(), expected, atol=1e-5)
    assert label == LABELS[digits_split("test", 0)[7]]


def test_train_split_is_normalised_to_zero_mean_unit_std():
    data = build_dataset("digits", "train", time_steps=1)
    pixels = torch.stack([data[i][0] for i in range(len(data))]).double()
    assert abs(pixels.mean().item()) < 1e-5
    assert abs(pixels.std(unbiased=False).item() - 1) < 1e-5


def test_other_split_seed_normalises_with_its_own_train_split():
    data = build_dataset("digits", "val", time_steps=1, split_seed=2)
    mean, std = _stats(2)
    index = digits_split("val", 2)[0]
    np.testing.assert_allclose(data[0][0][0, 0].numpy(), (IMAGES[index] - mean) / std, atol=1e-5)


@pytest.mark.parametrize("upscale", [2, 3])
def test_upscaled_digits_downsample_back_to_the_originals(upscale):
    small = build_dataset("digits", "val", time_steps=2)
    large = build_dataset("digits", "val", time_steps=2, upscale=upscale)
    size = 8 * upscale
    assert large.info.frame_shape == (1, size, size)
    for i in (0, 11, len(large) - 1):
        frames = large[i][0]
        assert frames.shape == (2, 1, size, size)
        blocks = frames[0, 0].reshape(8, upscale, 8, upscale)
        assert torch.equal(blocks.amin(dim=(1, 3)), blocks.amax(dim=(1, 3)))  # nearest: uniform blocks
        torch.testing.assert_close(blocks.mean(dim=(1, 3)), small[i][0][0, 0])


def test_augment_shifts_the_digit_without_touching_the_stored_image():
    plain = build_dataset("digits", "train", time_steps=2)
    shifted = build_dataset("digits", "train", time_steps=2, augment=True)
    stored = plain.images.clone()
    mean, std = _stats()
    blank = -mean / std
    torch.manual_seed(0)
    moved = 0
    for i in range(20):
        frames = shifted[i][0]
        original = plain[i][0][0, 0]
        assert frames.shape == (2, 1, 8, 8) and torch.equal(frames[0], frames[1])
        padded = torch.nn.functional.pad(original, (1, 1, 1, 1), value=blank)
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if torch.equal(frames[0, 0], padded[1 - dy : 9 - dy, 1 - dx : 9 - dx])]
        assert matches, "an augmented frame is not a shift of its digit by at most one pixel"
        moved += (0, 0) not in matches
    assert moved > 0
    assert torch.equal(shifted.images, stored)


@pytest.mark.parametrize("option, value", [("upscale", 0), ("upscale", 1.5), ("time_steps", 0), ("time_steps", True)])
def test_bad_options_are_refused(option, value):
    with pytest.raises(ValueError, match=option):
        build_dataset("digits", "train", **{option: value})


def test_augmentation_touches_the_training_split_only():
    from spikedyn.data import build_dataset

    assert build_dataset("digits", "train", augment=True).transform is not None
    for split in ("val", "test"):
        dataset = build_dataset("digits", split, augment=True)
        assert dataset.transform is None
        assert torch.equal(dataset[0][0], build_dataset("digits", split)[0][0])


def test_val_fraction_zero_leaves_val_empty_and_trains_on_the_rest():
    train = build_dataset("digits", "train", val_fraction=0.0)
    val = build_dataset("digits", "val", val_fraction=0.0)
    assert len(val) == 0 and len(train) == len(LABELS) - len(digits_split("test", 0))
    assert len(torch.utils.data.DataLoader(val, batch_size=8)) == 0


def test_split_seed_none_splits_in_load_digits_order():
    train, val, test = (digits_split(s, None) for s in ("train", "val", "test"))
    assert sorted([*train, *val, *test]) == list(range(len(LABELS)))
    for cls in range(10):
        members = np.flatnonzero(LABELS == cls)
        rest = members[: math.ceil(len(members) * 0.8)]  # the first 80% of each class play the training set
        assert test[LABELS[test] == cls].tolist() == members[len(rest) :].tolist()
        assert val[LABELS[val] == cls].tolist() == rest[math.ceil(len(rest) * 0.85) :].tolist()


def test_without_normalisation_digits_are_the_pixels_over_16():
    images, labels = load_digits(return_X_y=True)
    test = build_dataset("digits", "test", time_steps=2, normalize=False)
    indices = digits_split("test")
    for i in (0, len(test) - 1):
        assert torch.equal(test[i][0][0, 0], torch.from_numpy((images[indices[i]] / 16).astype(np.float32).reshape(8, 8)))
        assert test[i][1] == labels[indices[i]]

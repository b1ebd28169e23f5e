"""ImageNet from a tiny ImageFolder tree written with Pillow: classes, labels, splits, transforms, errors."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spikedyn.data.static import imagenet as imagenet_module
from spikedyn.data.static.imagenet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RandomResizedCrop,
    ResizeCenterCrop,
    eval_resize,
    to_tensor,
)
from spikedyn.data.registry import build_dataset, dataset_options, list_datasets

imagenet = partial(build_dataset, "imagenet")

# Written out of order: the labels must follow the sorted names, not the creation order.
WNIDS = ("n02000002", "n01000001", "n03000003")
COLOURS = {"n01000001": (255, 0, 0), "n02000002": (0, 255, 0), "n03000003": (0, 0, 255)}
SIZES = ((40, 30), (30, 40), (24, 24), (50, 20), (20, 50), (33, 27))  # (width, height)
CROP = 16
MEAN = torch.tensor(IMAGENET_MEAN)[:, None, None]
STD = torch.tensor(IMAGENET_STD)[:, None, None]


def write_image(path, size, colour, seed):
    """Half the class colour, half noise: textured (crops differ) yet the colour is the brightest channel."""
    noise = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3))
    pixels = (np.asarray(colour) * 0.5 + noise * 0.5).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=95)


@pytest.fixture
def root(tmp_path):
    base = tmp_path / "ImageNet"
    for c, wnid in enumerate(WNIDS):
        for i, size in enumerate(SIZES):
            write_image(base / "train" / wnid / f"{wnid}_{i}.JPEG", size, COLOURS[wnid], 10 * c + i)
        for i in range(2):
            write_image(base / "val" / wnid / f"ILSVRC2012_val_{c}{i}.JPEG", SIZES[i + 2], COLOURS[wnid], 100 + 10 * c + i)
    (base / "train" / WNIDS[0] / "notes.txt").write_text("not an image")  # ignored
    (base / "train" / ".cache").mkdir()  # hidden: not a class
    return tmp_path


def unnormalised(image: torch.Tensor) -> torch.Tensor:
    return image * STD + MEAN


def wnid_of(dataset, index):
    return Path(dataset.path(index)).parent.name


def test_registered_with_its_options():
    assert "imagenet" in list_datasets()
    assert dataset_options("imagenet") == ["root", "time_steps", "crop", "augment", "val_fraction", "split_seed"]


def test_classes_are_the_sorted_wnids_and_every_label_matches_its_folder_and_its_image(root):
    test = imagenet("test", root=root, time_steps=3, crop=CROP)
    assert test.info.classes == tuple(sorted(WNIDS))
    assert test.info.num_classes == 3 and test.info.frame_shape == (3, CROP, CROP) and test.info.time_steps == 3
    assert len(test) == 6 and sorted(test.labels.tolist()) == [0, 0, 1, 1, 2, 2]
    for i in range(len(test)):
        frames, label = test[i]
        assert frames.shape == (3, 3, CROP, CROP) and frames.dtype == torch.float32
        assert frames.stride(0) == 0  # the image expanded over T, not copied
        assert test.info.classes[label] == wnid_of(test, i)
        channel_means = unnormalised(frames[0]).mean(dim=(1, 2))
        assert int(channel_means.argmax()) == label  # class k's colour is bright in channel k


def test_train_and_val_divide_the_official_train_folder_per_class(root):
    train = imagenet("train", root=root, crop=CROP, val_fraction=0.34, split_seed=3)
    val = imagenet("val", root=root, crop=CROP, val_fraction=0.34, split_seed=3)
    assert len(train) == 12 and len(val) == 6  # round(0.34 * 6) = 2 of each class held out
    assert np.bincount(val.labels).tolist() == [2, 2, 2]
    assert set(train.indices).isdisjoint(val.indices) and sorted([*train.indices, *val.indices]) == list(range(18))
    assert {train.path(i) for i in range(len(train))}.isdisjoint(val.path(i) for i in range(len(val)))
    for dataset in (train, val):
        assert all(dataset.info.classes[dataset.labels[i]] == wnid_of(dataset, i) for i in range(len(dataset)))
    again = imagenet("val", root=root, crop=CROP, val_fraction=0.34, split_seed=3)
    assert again.indices.tolist() == val.indices.tolist()
    whole = imagenet("train", root=root, crop=CROP)  # the default 1% of 6 rounds to none held out
    assert len(whole) == 18 and len(imagenet("val", root=root, crop=CROP)) == 0


def test_split_seed_none_validates_on_the_last_images_of_each_class_in_sorted_order(root):
    train = imagenet("train", root=root, crop=CROP, val_fraction=0.34, split_seed=None)
    val = imagenet("val", root=root, crop=CROP, val_fraction=0.34, split_seed=None)
    # 6 images per class: ceil(6 * 0.66) = 4 train, the last 2 (names _4, _5) validate
    assert sorted(Path(val.path(i)).stem.rsplit("_", 1)[1] for i in range(len(val))) == ["4", "4", "4", "5", "5", "5"]
    assert len(train) == 12 and set(train.indices).isdisjoint(val.indices)
    assert len(imagenet("val", root=root, crop=CROP, val_fraction=0.0, split_seed=None)) == 0


def test_listing_opens_no_image(root, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an image was opened while listing")

    monkeypatch.setattr(imagenet_module.Image, "open", refuse)
    for split in ("train", "val", "test"):
        imagenet(split, root=root, crop=CROP, val_fraction=0.34)


def test_eval_is_deterministic_and_centre_crops_as_computed_by_hand(root):
    val = imagenet("val", root=root, crop=CROP, val_fraction=0.34)
    assert torch.equal(val[0][0], val[0][0])
    assert eval_resize(224) == 256 and eval_resize(CROP) == 18
    # shorter side already 18: no resampling; crop rows 1..16 (round(2 / 2)), columns 7..22 (round(14 / 2))
    x, y = np.meshgrid(np.arange(30), np.arange(18))
    pixels = np.stack([x * 8, y * 14, x + y], axis=-1).astype(np.uint8)
    image = ResizeCenterCrop(CROP)(Image.fromarray(pixels))
    expected = (torch.from_numpy(pixels[1:17, 7:23]).permute(2, 0, 1).double() / 255 - MEAN.double()) / STD.double()
    normalised = (to_tensor(image) - MEAN) / STD
    torch.testing.assert_close(normalised.double(), expected, rtol=0, atol=1e-6)
    # a solid colour survives resizing and cropping: (c / 255 - mean) / std everywhere
    solid = to_tensor(ResizeCenterCrop(CROP)(Image.new("RGB", (40, 30), (255, 128, 0))))
    expected_solid = (torch.tensor([255.0, 128.0, 0.0]) / 255 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close((solid - MEAN) / STD, expected_solid[:, None, None].expand(3, CROP, CROP))


def test_train_augmentation_gives_the_crop_size_and_varies_with_the_seed(root):
    train = imagenet("train", root=root, time_steps=2, crop=CROP)
    draws = {}
    for seed in (0, 0, 1, 2):
        torch.manual_seed(seed)
        frames, _ = train[0]
        assert frames.shape == (2, 3, CROP, CROP)
        if seed in draws:
            assert torch.equal(frames, draws[seed])
        draws[seed] = frames
    assert not torch.equal(draws[0], draws[1]) or not torch.equal(draws[0], draws[2])
    plain = imagenet("train", root=root, crop=CROP, augment=False)
    assert isinstance(plain.crop_image, ResizeCenterCrop) and not plain.flip
    assert isinstance(train.crop_image, RandomResizedCrop) and train.flip


def test_random_resized_crop_boxes_fit_are_reproducible_and_fall_back_to_the_centre():
    def boxes(seed):
        crop = RandomResizedCrop(CROP, generator=torch.Generator().manual_seed(seed))
        return [crop.box(40, 30) for _ in range(50)]

    assert boxes(0) == boxes(0) and boxes(0) != boxes(1)
    for left, top, w, h in boxes(0):
        assert 0 <= left and left + w <= 40 and 0 <= top and top + h <= 30
        assert 0.08 * 1200 - 40 <= w * h <= 1200 and 3 / 4 - 0.1 <= w / h <= 4 / 3 + 0.1
    # a 100x1 image admits no box of aspect <= 4/3 and area >= 8%: the centre, aspect clamped to 4/3
    assert RandomResizedCrop(CROP).box(100, 1) == (49, 0, 1, 1)
    assert RandomResizedCrop(CROP)(Image.new("RGB", (40, 30))).size == (CROP, CROP)


def test_missing_folders_say_where_to_put_what(tmp_path, root):
    with pytest.raises(FileNotFoundError, match=r"image-net\.org") as error:
        imagenet("train", root=tmp_path / "nowhere")
    assert "ImageNet/train/<wnid>/*.JPEG" in str(error.value) and "cannot be downloaded automatically" in str(error.value)
    (root / "ImageNet" / "val").rename(root / "ImageNet" / "val_flat")
    with pytest.raises(FileNotFoundError, match=r"ImageNet/val"):
        imagenet("test", root=root)
    imagenet("train", root=root)  # the train split needs no val folder
    (root / "ImageNet" / "val").mkdir()
    (root / "ImageNet" / "val" / "ILSVRC2012_val_00000001.JPEG").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="one folder per class"):
        imagenet("test", root=root)


def test_a_val_class_the_train_folder_lacks_is_refused(root):
    write_image(root / "ImageNet" / "val" / "n09999999" / "x.JPEG", (20, 20), (1, 2, 3), 0)
    with pytest.raises(ValueError, match="n09999999"):
        imagenet("test", root=root)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_an_undecodable_image_is_a_value_error_naming_the_file(root, damage):
    test = imagenet("test", root=root, crop=CROP)
    path = test.path(3)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a jpeg at all" * 10)
    with pytest.raises(ValueError, match=re.escape(path)):
        test[3]
    test[2]  # the others still read


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"crop": 0}, ValueError),
        ({"time_steps": "4"}, TypeError),
        ({"augment": 1}, TypeError),
        ({"val_fraction": 1.0}, ValueError),
        ({"split_seed": "0"}, TypeError),
    ],
)
def test_bad_options_are_refused(root, options, error):
    with pytest.raises(error):
        imagenet("train", root=root, **options)

"""N-MNIST, CIFAR10-DVS, DVS128 Gesture and N-Caltech101 as registered frame datasets."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from spikedyn.data.augment import (
    Compose,
    NeuromorphicAugment,
    RandomCrop,
    RandomHorizontalFlip,
)
from spikedyn.data.base import DatasetInfo, Transform
from spikedyn.data.cache import FrameCache
from spikedyn.data.event_dataset import EventFrameDataset
from spikedyn.data.event_sources import (
    CIFAR10DVS_SOURCE,
    DVSGESTURE_SOURCE,
    NCALTECH101_SOURCE,
    NMNIST_SOURCE,
    EventSource,
    Listing,
)
from spikedyn.data.registry import DATASETS
from spikedyn.data.splits import VALIDATION_FRACTION, first_per_class, split_indices


def _official_part(source: EventSource, folder: Path, train: bool, train_fraction: float) -> Listing:
    """The files of the official training (train=True) or test part."""
    files, labels = source.list_files(folder, train)
    if source.official_split or not files:
        return files, labels
    first, rest = first_per_class(labels, train_fraction)
    chosen = first if train else rest
    return [files[i] for i in chosen], labels[chosen]


def _listing(source: EventSource, root: str | Path, train: bool, train_fraction: float, download: bool) -> Listing:
    folder = source.folder(root)
    files, labels = _official_part(source, folder, train, train_fraction)
    if not files and download:
        source.download(root, train)
        files, labels = _official_part(source, folder, train, train_fraction)
    if not files:
        raise FileNotFoundError(source.missing_message(root))
    return files, labels


def event_augmentation(size: tuple[int, int], flip: bool, crop_padding: int, nda: bool) -> Transform | None:
    """The IMP paper's training augmentation of frames: random crop with padding, flip, NDA; None if all off."""
    steps: list[Transform] = []
    if crop_padding:
        steps.append(RandomCrop(size, padding=crop_padding))
    if flip:
        steps.append(RandomHorizontalFlip())
    if nda:
        steps.append(NeuromorphicAugment())
    return Compose(steps) if steps else None


def frame_cache(root: str | Path, dataset: str, **parameters: object) -> FrameCache:
    """The frame cache of ``dataset`` for these frame parameters, under ``root``."""
    return FrameCache(root, {"dataset": dataset, **parameters})


def assemble_event_dataset(
    split: str,
    *,
    name: str,
    classes: tuple[str, ...],
    files: list[Path],
    labels: np.ndarray,
    read: Callable[[Path], np.ndarray],
    sensor_size: tuple[int, int, int],
    data_folder: Path,
    root: str,
    time_steps: int,
    split_by: str,
    resize: int | None,
    cache: bool,
    cache_root: str | None,
    flip: bool,
    crop_padding: int,
    nda: bool,
) -> EventFrameDataset:
    """The frame dataset of one split's event files: its info, frame cache and (train only) augmentation."""
    width, height, polarities = sensor_size
    shape = (polarities, resize, resize) if resize else (polarities, height, width)
    info = DatasetInfo(name, num_classes=len(classes), frame_shape=shape, time_steps=time_steps, classes=classes)
    transform = event_augmentation(shape[1:], flip, crop_padding, nda) if split == "train" else None
    store = None
    if cache:
        parameters = dict(time_steps=time_steps, split_by=split_by, resize=resize, sensor_size=list(sensor_size))
        store = frame_cache(Path(cache_root) if cache_root else Path(root) / "frames_cache", name, **parameters)
    return EventFrameDataset(
        info, files, np.asarray(labels), read, sensor_size,
        data_folder=data_folder, split_by=split_by, resize=resize, cache=store, transform=transform,
    )  # fmt: skip


def build_event_dataset(
    split: str,
    *,
    source: EventSource,
    root: str = "data",
    download: bool = False,
    val_fraction: float = VALIDATION_FRACTION,
    split_seed: int = 0,
    train_fraction: float = 0.9,
    **frame_options: object,
) -> EventFrameDataset:
    """One split of ``source`` as frames; "val" is a per-class part of the official training set.

    ``frame_options`` are those of :func:`assemble_event_dataset` (time_steps, split_by, resize,
    cache, cache_root and the train-only augmentation flip, crop_padding, nda).
    """
    files, labels = _listing(source, root, split != "test", train_fraction, download)
    if split != "test":
        chosen = split_indices(split, labels, val_fraction, split_seed)
        files, labels = [files[i] for i in chosen], labels[chosen]
    folder = source.folder(root)
    return assemble_event_dataset(
        split, name=source.name, classes=source.class_names(folder), files=files, labels=labels, read=source.read,
        sensor_size=source.sensor_size, data_folder=folder, root=root, **frame_options,
    )  # fmt: skip


COMMON = dict(
    root="data", split_by="number", download=False, cache=True, cache_root=None,
    val_fraction=VALIDATION_FRACTION, split_seed=0, flip=False, crop_padding=0, nda=False,
)  # fmt: skip

DATASETS.register_variant(
    "nmnist",
    partial(build_event_dataset, source=NMNIST_SOURCE),
    "N-MNIST: 34x34 two-polarity frames, official train/test; T=10 as in the PLIF paper.",
    **COMMON, time_steps=10, resize=None,
)
DATASETS.register_variant(
    "dvs128_gesture",
    partial(build_event_dataset, source=DVSGESTURE_SOURCE),
    "DVS128 Gesture: 128x128 two-polarity frames, 11 classes, official train/test; T=20 as in the PLIF paper.",
    **COMMON, time_steps=20, resize=None,
)
DATASETS.register_variant(
    "cifar10dvs",
    partial(build_event_dataset, source=CIFAR10DVS_SOURCE),
    "CIFAR10-DVS: the first 90% of each class's files (900 of 1000) for training, the last 10% for test (PLIF paper); T=20, 128x128 (resize=48 for the IMP paper).",
    **COMMON, time_steps=20, resize=None, train_fraction=0.9,
)
DATASETS.register_variant(
    "ncaltech101",
    partial(build_event_dataset, source=NCALTECH101_SOURCE),
    "N-Caltech101: a fixed per-class split (the first train_fraction of each class's files for training), frames resized to 48x48 (IMP paper); T=10.",
    **COMMON, time_steps=10, resize=48, train_fraction=0.9,
)

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
from spikedyn.data.events.dataset import CACHE_VERIFY, EventFrameDataset
from spikedyn.data.events.sources import (
    CIFAR10DVS_SOURCE,
    DVSGESTURE_SOURCE,
    NCALTECH101_SOURCE,
    NMNIST_SOURCE,
    EventSource,
    Listing,
)
from spikedyn.data.events.frames import SPLIT_BY
from spikedyn.data.options import (
    OptionError,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_path,
    check_sample_size,
    check_side,
    check_time_steps,
)
from spikedyn.data.registry import DATASETS
from spikedyn.data.events.spikformer_augment import IMP_NCALTECH101_CONFIG_SPACE, SPIKFORMER_DVS_SPACE, SpikformerDVSAugment
from spikedyn.data.splits import VALIDATION_FRACTION, check_split_seed, check_test_part, split_by_file_order, split_indices

#: The named ``nda`` choices besides True (NDA: roll, rotation or shear) and False (none).
#: "imp_ncaltech101": the IMP code's N-Caltech101 op (SpikFormerDVS) as it ran; with resize=48 and
#: flip=True (and crop_padding=0) it is that code's whole training pipeline.
#: "imp_ncaltech101_as_configured": the op space its config writes, which that code never applied.
NDA_CHOICES = {
    "imp_ncaltech101": lambda: SpikformerDVSAugment(SPIKFORMER_DVS_SPACE),
    "imp_ncaltech101_as_configured": lambda: SpikformerDVSAugment(IMP_NCALTECH101_CONFIG_SPACE),
}


def _official_part(source: EventSource, folder: Path, train: bool, train_fraction: float, test_part: str) -> Listing:
    """The files of the official training (train=True) or test part."""
    files, labels = source.list_files(folder, train)
    if source.official_split or not files:
        return files, labels
    train_part, test = split_by_file_order(labels, train_fraction, test_part)
    chosen = train_part if train else test
    return [files[i] for i in chosen], labels[chosen]


def _listing(source: EventSource, root: str | Path, train: bool, train_fraction: float, test_part: str, download: bool) -> Listing:
    folder = source.folder(root)
    files, labels = _official_part(source, folder, train, train_fraction, test_part)
    if not files and download:
        source.download(root, train)
        files, labels = _official_part(source, folder, train, train_fraction, test_part)
    if not files:
        raise FileNotFoundError(source.missing_message(root))
    return files, labels


def nda_transform(nda: bool | str) -> Transform | None:
    """The transform an ``nda`` option names: True NDA (:class:`NeuromorphicAugment`), False none, or one of :data:`NDA_CHOICES`."""
    if isinstance(nda, bool):
        return NeuromorphicAugment() if nda else None
    if not isinstance(nda, str) or nda not in NDA_CHOICES:
        raise OptionError("nda", f"nda={nda!r} is not known; expected True, False or one of {list(NDA_CHOICES)}")
    return NDA_CHOICES[nda]()


def event_augmentation(size: tuple[int, int], flip: bool, crop_padding: int, nda: bool | str) -> Transform | None:
    """The IMP paper's training augmentation of frames: random crop with padding, flip, then ``nda``; None if all off."""
    flip = check_bool("flip", flip)
    crop_padding = check_int("crop_padding", crop_padding, 0, max(size), "at most the frame's side")
    steps: list[Transform] = []
    if crop_padding:
        steps.append(RandomCrop(size, padding=crop_padding))
    if flip:
        steps.append(RandomHorizontalFlip())
    last = nda_transform(nda)
    if last is not None:
        steps.append(last)
    return Compose(steps) if steps else None


def check_frame_options(
    sensor_size: tuple[int, int, int],
    *,
    time_steps: int,
    split_by: str,
    resize: int | None,
    cache: bool,
    cache_root: str | None,
    cache_verify: str,
    flip: bool,
    crop_padding: int,
    nda: bool | str,
) -> tuple[int, int, int]:
    """The frame shape (P, H, W) the options give, each option checked first: an error names it.

    Called before anything is listed, generated, read or allocated, so a bad option costs nothing.
    """
    time_steps = check_time_steps(time_steps)
    check_choice("split_by", split_by, SPLIT_BY)
    resize = None if resize is None else check_side("resize", resize)
    check_bool("cache", cache)
    check_path("cache_root", cache_root, optional=True)
    check_choice("cache_verify", cache_verify, CACHE_VERIFY)
    width, height, polarities = sensor_size
    shape = (polarities, resize, resize) if resize else (polarities, height, width)
    check_sample_size({"time_steps": time_steps, "resize": resize}, time_steps, shape)
    event_augmentation(shape[1:], flip, crop_padding, nda)
    return shape


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
    nda: bool | str,
    cache_verify: str = "stat",
) -> EventFrameDataset:
    """The frame dataset of one split's event files: its info, frame cache and (train only) augmentation.

    ``cache_verify`` is how a cache entry recognises its file (:data:`CACHE_VERIFY`).
    """
    shape = check_frame_options(
        sensor_size, time_steps=time_steps, split_by=split_by, resize=resize, cache=cache, cache_root=cache_root,
        cache_verify=cache_verify, flip=flip, crop_padding=crop_padding, nda=nda,
    )  # fmt: skip
    time_steps, resize = int(time_steps), None if resize is None else int(resize)
    info = DatasetInfo(name, num_classes=len(classes), frame_shape=shape, time_steps=time_steps, classes=classes)
    transform = event_augmentation(shape[1:], flip, crop_padding, nda) if split == "train" else None
    store = None
    if cache:
        parameters = dict(time_steps=time_steps, split_by=split_by, resize=resize, sensor_size=list(sensor_size))
        store = frame_cache(Path(cache_root) if cache_root else Path(root) / "frames_cache", name, **parameters)
    return EventFrameDataset(
        info, files, np.asarray(labels), read, sensor_size, data_folder=data_folder, split_by=split_by, resize=resize,
        cache=store, cache_verify=cache_verify, transform=transform,
    )  # fmt: skip


def build_event_dataset(
    split: str,
    *,
    source: EventSource,
    root: str = "data",
    download: bool = False,
    val_fraction: float = VALIDATION_FRACTION,
    split_seed: int | None = 0,
    train_fraction: float = 0.9,
    test_part: str = "last",
    **frame_options: object,
) -> EventFrameDataset:
    """One split of ``source`` as frames; "val" is a per-class part of the official training set.

    "val" holds ``val_fraction`` of each class, drawn from ``split_seed``, or with ``split_seed=None``
    the last files of each class in order (the PLIF authors' split, :func:`stratified_holdout`);
    ``val_fraction=0`` leaves it empty. Without an official split, the train and test parts are
    ``train_fraction`` of each class's files and the rest, the test part at the end ``test_part``
    names (:func:`split_by_file_order`). ``frame_options`` are those of
    :func:`assemble_event_dataset` (time_steps, split_by, resize, cache, cache_root, cache_verify
    and the train-only augmentation flip, crop_padding, nda).
    """
    check_path("root", root)
    download = check_bool("download", download)
    check_fraction("val_fraction", val_fraction)
    check_split_seed(split_seed)
    check_fraction("train_fraction", train_fraction, low_open=True)
    check_test_part(test_part)
    check_frame_options(source.sensor_size, **frame_options)  # type: ignore[arg-type]
    files, labels = _listing(source, root, split != "test", train_fraction, test_part, download)
    if split != "test":
        chosen = split_indices(split, labels, val_fraction, split_seed)
        files, labels = [files[i] for i in chosen], labels[chosen]
    folder = source.folder(root)
    return assemble_event_dataset(
        split, name=source.name, classes=source.class_names(folder), files=files, labels=labels, read=source.read,
        sensor_size=source.sensor_size, data_folder=folder, root=root, **frame_options,
    )  # fmt: skip


COMMON = dict(
    root="data", split_by="number", download=False, cache=True, cache_root=None, cache_verify="stat",
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
    "CIFAR10-DVS: the first 90% of each class's files (900 of 1000) for training, the last 10% for test (PLIF paper); "
    "test_part='first' tests on the first 10% (cifar10_<class>_0 .. _99) as the IMP paper's code does; "
    "T=20, 128x128 (resize=48 for the IMP paper).",
    **COMMON, time_steps=20, resize=None, train_fraction=0.9, test_part="last",
)
DATASETS.register_variant(
    "ncaltech101",
    partial(build_event_dataset, source=NCALTECH101_SOURCE),
    "N-Caltech101: a fixed per-class split (the first train_fraction of each class's files for training), frames resized to 48x48 (IMP paper); "
    "T=10; nda='imp_ncaltech101' with flip=True is the IMP code's training augmentation.",
    **COMMON, time_steps=10, resize=48, train_fraction=0.9,
)

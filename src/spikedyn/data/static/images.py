"""MNIST, Fashion-MNIST and CIFAR-10 as datasets: the normalised image fed at every time step.

Splits "train" and "val" divide the official training set (:func:`split_indices`); "test" is the
official test set. The files and their readers are in :mod:`spikedyn.data.static.files`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from spikedyn.data.augment import Normalize
from spikedyn.data.base import DatasetInfo, FrameDataset, Transform
from spikedyn.data.options import check_bool, check_fraction, check_optional_int, check_path, check_time_steps
from spikedyn.data.registry import DATASETS
from spikedyn.data.splits import VALIDATION_FRACTION, check_split, check_split_seed, first_of_each_class, split_indices
from spikedyn.data.static.augment import check_augment, static_augmentation
from spikedyn.data.static.files import (
    CIFAR10_CLASSES,
    CORRUPT,
    DEFAULT_ROOT,
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_MD5,
    FASHION_MNIST_MIRRORS,
    MNIST_CLASSES,
    MNIST_MD5,
    MNIST_MIRRORS,
    check_labels,
    cifar_paths,
    idx_paths,
    read_cifar_batch,
    read_idx_images,
    read_idx_labels,
)

# --- the datasets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What differs between the three datasets: names, files, readers."""

    name: str
    classes: tuple[str, ...]
    frame_shape: tuple[int, int, int]
    paths: Callable[[Path | None, str, bool], list[Path]]  # (root or None, "train" | "test", download) -> the files of that part
    read: Callable[[list[Path]], tuple[np.ndarray, np.ndarray]]  # files -> (uint8 [N, C, H, W], int64 [N])


def _read_idx_part(source_name: str, frame_shape: tuple[int, int, int]) -> Callable[[list[Path]], tuple[np.ndarray, np.ndarray]]:
    def read(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        images_path, labels_path = paths
        images, labels = read_idx_images(images_path, source_name), read_idx_labels(labels_path, source_name)
        if images.shape[1:] != frame_shape[1:]:
            raise ValueError(f"{images_path} holds images of {images.shape[1]}x{images.shape[2]}, but {source_name} images are {frame_shape[1]}x{frame_shape[2]}")
        if len(images) != len(labels):
            raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels; {CORRUPT}")
        return images[:, None], check_labels(labels, labels_path, 10)

    return read


def _read_cifar_part(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    batches = [read_cifar_batch(path) for path in paths]
    for path, (_, labels) in zip(paths, batches):
        check_labels(labels, path, len(CIFAR10_CLASSES))
    return np.concatenate([images for images, _ in batches]), np.concatenate([labels for _, labels in batches])


_MNIST = _Source(
    "mnist",
    MNIST_CLASSES,
    (1, 28, 28),
    lambda root, part, download: idx_paths(root, "MNIST/raw", part, download, "MNIST", MNIST_MIRRORS, MNIST_MD5),
    _read_idx_part("MNIST", (1, 28, 28)),
)
_FASHION_MNIST = _Source(
    "fashion_mnist",
    FASHION_MNIST_CLASSES,
    (1, 28, 28),
    lambda root, part, download: idx_paths(root, "FashionMNIST/raw", part, download, "Fashion-MNIST", FASHION_MNIST_MIRRORS, FASHION_MNIST_MD5),
    _read_idx_part("Fashion-MNIST", (1, 28, 28)),
)
_CIFAR10 = _Source(
    "cifar10",
    CIFAR10_CLASSES,
    (3, 32, 32),
    lambda root, part, download: cifar_paths((DEFAULT_ROOT if root is None else root) / "CIFAR10", part, download),
    _read_cifar_part,
)


def channel_statistics(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (mean, std) of uint8 images [N, C, H, W] on the [0, 1] scale, exact in float64 (from histograms)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.size == 0:
        raise ValueError(f"channel_statistics needs uint8 images [N, C, H, W] with N > 0, got {images.dtype} {images.shape}")
    values = np.arange(256, dtype=np.float64) / 255
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = np.bincount(images[:, channel].ravel(), minlength=256).astype(np.float64)
        mean = counts @ values / counts.sum()
        means.append(float(mean))
        stds.append(math.sqrt(counts @ (values - mean) ** 2 / counts.sum()))
    return tuple(means), tuple(stds)


def _source(name: str) -> _Source:
    sources = {source.name: source for source in (_MNIST, _FASHION_MNIST, _CIFAR10)}
    if name not in sources:
        raise ValueError(f"unknown static dataset {name!r}; known: {', '.join(sources)}")
    return sources[name]


def load_static(name: str, root: str | os.PathLike[str] | None, part: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, C, H, W], labels int64 [N]) of the official ``part`` ("train" or "test") of ``name``."""
    source = _source(name)
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test' (the official sets), got {part!r}")
    return source.read(source.paths(None if root is None else Path(root), part, download))


class StaticImageDataset(FrameDataset):
    """Static images fed directly to a spiking network: frames [T, C, H, W], the same normalised image at every step.

    ``images`` are uint8 [N, C, H, W]. A sample is ``(image / 255 - mean) / std`` per channel, with
    ``mean`` and ``std`` on the [0, 1] scale (the train split's, for every split), broadcast over
    ``info.time_steps`` steps as a view (no copy). ``augmentation`` acts on the image [C, H, W] in
    [0, 1] before it is normalised and repeated, so all steps see the same augmented image;
    ``transform`` then acts on the frames, as in every FrameDataset. ``indices`` locate the samples
    in the official set they were taken from.
    """

    def __init__(
        self,
        info: DatasetInfo,
        images: np.ndarray,
        labels: np.ndarray,
        mean: Sequence[float],
        std: Sequence[float],
        augmentation: Transform | None = None,
        transform: Transform | None = None,
        indices: np.ndarray | None = None,
    ) -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != tuple(info.frame_shape):
            raise ValueError(f"{info.name}: images must be uint8 [N, {', '.join(map(str, info.frame_shape))}], got {images.dtype} {images.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{info.name}: {len(images)} images but {len(labels)} labels")
        if len(mean) != info.frame_shape[0]:
            raise ValueError(f"{info.name}: mean and std need one value per channel ({info.frame_shape[0]}), got {len(mean)}")
        super().__init__(info, labels, transform)
        self.images = images
        self.normalize = Normalize(mean, std)
        self.augmentation = augmentation
        self.indices = np.arange(len(images)) if indices is None else np.asarray(indices, dtype=np.int64)

    @property
    def mean(self) -> tuple[float, ...]:
        return self.normalize.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.normalize.std

    def image(self, index: int) -> torch.Tensor:
        """Image ``index`` [C, H, W] float32: augmented (if this split augments) and normalised."""
        image = torch.from_numpy(np.asarray(self.images[index], dtype=np.float32) / 255)
        if self.augmentation is not None:
            image = self.augmentation(image)
        return self.normalize(image)

    def frames(self, index: int) -> torch.Tensor:
        """The image broadcast over T steps (a view, not a copy): transforms must not modify it in place."""
        image = self.image(index)
        return image.unsqueeze(0).expand(self.info.time_steps, *image.shape)


# (dataset, train files as (path, size, mtime), val_fraction, seed or None, per_class) -> the train split's (mean, std)
_STATISTICS: dict[tuple[object, ...], tuple[tuple[float, ...], tuple[float, ...]]] = {}


def _split_of_training_set(split: str, labels: np.ndarray, val_fraction: float, seed: int | None, per_class: int | None) -> np.ndarray:
    """Indices into the official training set of "train" or "val": of its first ``per_class`` images of each class, if set."""
    pool = np.arange(len(labels)) if per_class is None else first_of_each_class(labels, per_class)
    return pool[split_indices(split, labels[pool], val_fraction, seed)]


def _train_statistics(
    source: _Source, train_paths: list[Path], val_fraction: float, seed: int | None, per_class: int | None, train_images: np.ndarray | None
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The (mean, std) of the train split, computed once per dataset files and split."""
    stamp = tuple((str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for path in train_paths)
    key = (source.name, stamp, val_fraction, seed, per_class)
    if key not in _STATISTICS:
        if train_images is None:
            images, labels = source.read(train_paths)
            train_images = images[_split_of_training_set("train", labels, val_fraction, seed, per_class)]
        _STATISTICS[key] = channel_statistics(train_images)
    return _STATISTICS[key]


def _build(
    source: _Source,
    split: str,
    root: str | os.PathLike[str] | None,
    time_steps: int,
    download: bool,
    augment: bool | str,
    val_fraction: float,
    split_seed: int | None,
    normalize: bool = True,
    per_class: int | None = None,
    test_per_class: int | None = None,
) -> StaticImageDataset:
    """One split of ``source``: "train" augmented per ``augment`` (:mod:`spikedyn.data.static.augment`), "val" and "test" never.

    ``normalize=False`` keeps intensities in [0, 1] (what a Poisson or latency encoder takes)
    instead of normalising by the train split's mean and std per channel.

    "val" holds ``val_fraction`` of each class of the official training set, drawn from
    ``split_seed``, or with ``split_seed=None`` the last ones of each class in file order (the
    PLIF authors' split, :func:`~spikedyn.data.splits.stratified_holdout`); 0 leaves it empty.
    ``per_class`` (``test_per_class``) keeps only the first that many images of each class of
    the official training (test) set, in file order: a fixed class-balanced subset, for runs
    that must fit a small budget; "train" and "val" are carved from the kept images.
    """
    check_split(split)
    check_path("root", root, optional=True)
    time_steps = check_time_steps(time_steps)
    download = check_bool("download", download)
    check_augment(augment)
    check_fraction("val_fraction", val_fraction)
    check_split_seed(split_seed)
    normalize = check_bool("normalize", normalize)
    per_class = check_optional_int("per_class", per_class, 1, why="images kept of each class of the training set, or None for all")
    test_per_class = check_optional_int("test_per_class", test_per_class, 1, why="images kept of each class of the test set, or None for all")
    folder = None if root is None else Path(root)
    train_paths = source.paths(folder, "train", download)  # the test split needs them too: its normalisation
    if split == "test":
        all_images, all_labels = source.read(source.paths(folder, "test", download))
        indices = np.arange(len(all_labels)) if test_per_class is None else first_of_each_class(all_labels, test_per_class)
    else:
        all_images, all_labels = source.read(train_paths)
        indices = _split_of_training_set(split, all_labels, val_fraction, split_seed, per_class)
    images, labels = all_images[indices], all_labels[indices]
    if normalize:
        mean, std = _train_statistics(source, train_paths, val_fraction, split_seed, per_class, images if split == "train" else None)
    else:
        mean, std = (0.0,) * source.frame_shape[0], (1.0,) * source.frame_shape[0]
    info = DatasetInfo(source.name, num_classes=len(source.classes), frame_shape=source.frame_shape, time_steps=int(time_steps), classes=source.classes)
    augmentation = static_augmentation(source.name, augment) if split == "train" else None
    return StaticImageDataset(info, images, labels, mean, std, augmentation=augmentation, indices=indices)


COMMON = dict(root=None, time_steps=8, download=False, augment="code", val_fraction=VALIDATION_FRACTION, split_seed=0, normalize=True,
              per_class=None, test_per_class=None)  # fmt: skip

DATASETS.register_variant(
    "mnist",
    partial(_build, _MNIST),
    "MNIST handwritten digits (1x28x28), from ``<root>/MNIST/raw/`` or ``<root>`` (no root: ``data/MNIST/raw``, "
    "``/usr/share/datasets/mnist``); train augmented as in the PLIF code (random affine: "
    "30 degrees, shift 0.15, scale 0.85-1.11), or augment='text' (crop and flip, the paper's text), or 'none'.",
    **COMMON,
)
DATASETS.register_variant(
    "fashion_mnist",
    partial(_build, _FASHION_MNIST),
    "Fashion-MNIST clothing images (1x28x28), from ``<root>/FashionMNIST/raw/`` or ``<root>`` (no root: "
    "``data/FashionMNIST/raw``, then Debian's ``/usr/share/datasets/fashion-mnist``); never augmented (the PLIF code and text).",
    **COMMON,
)
DATASETS.register_variant(
    "cifar10",
    partial(_build, _CIFAR10),
    "CIFAR-10 (3x32x32), from ``<root>/CIFAR10/`` (no root: ``data/CIFAR10/``); train augmented by a random crop with padding 4 and a horizontal flip "
    "(the PLIF code and text), or augment='none'.",
    **COMMON,
)

"""Small MNIST-style IDX files and CIFAR-10 pickle batches in the real formats and layouts, for reader tests."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The IDX format (http://yann.lecun.com/exdb/mnist/): magic 0x00000803 / 0x00000801, big-endian sizes, raw bytes.
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
MNIST_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


@dataclass(frozen=True)
class Official:
    """An official train and test set as written to disk: images uint8 [N, H, W] or [N, 3, 32, 32], labels int."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def random_set(seed: int, shape: tuple[int, ...], n_train: int = 40, n_test: int = 10, num_classes: int = 10) -> Official:
    """Random images of ``shape`` with labels covering every class equally often (n a multiple of num_classes)."""
    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8), rng.permutation(np.arange(n) % num_classes)

    return Official(*part(n_train), *part(n_test))


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """``array`` (uint8) as an uncompressed IDX file."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_gzip(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data))
    return path


def write_mnist_files(folder: Path, official: Official, gzipped: bool = True) -> Path:
    """The four MNIST files of ``official`` in ``folder`` (e.g. <root>/MNIST/raw), gzipped as published or not."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        MNIST_NAMES["train"][0]: idx_bytes(official.train_images, IMAGES_MAGIC),
        MNIST_NAMES["train"][1]: idx_bytes(official.train_labels, LABELS_MAGIC),
        MNIST_NAMES["test"][0]: idx_bytes(official.test_images, IMAGES_MAGIC),
        MNIST_NAMES["test"][1]: idx_bytes(official.test_labels, LABELS_MAGIC),
    }
    for name, data in contents.items():
        if gzipped:
            write_gzip(folder / name, data)
        else:
            (folder / name.removesuffix(".gz")).write_bytes(data)
    return folder


def cifar_batch_bytes(images: np.ndarray, labels: np.ndarray, protocol: int = 2) -> bytes:
    """A CIFAR-10 python batch: a pickled dict with b"data" uint8 [N, 3072] (rows R, G, B planes) and b"labels"."""
    batch = {
        b"batch_label": b"a test batch",
        b"labels": [int(label) for label in labels],
        b"data": np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), 3072),
        b"filenames": [f"image_{i}.png".encode() for i in range(len(images))],
    }
    return pickle.dumps(batch, protocol=protocol)


def cifar_batches(official: Official) -> dict[str, bytes]:
    """The six batch files of ``official``: the training set cut into five equal data batches, then test_batch."""
    images, labels = np.split(official.train_images, 5), np.split(official.train_labels, 5)
    files = {name: cifar_batch_bytes(i, l) for name, i, l in zip(CIFAR_TRAIN_BATCHES, images, labels)}
    files["test_batch"] = cifar_batch_bytes(official.test_images, official.test_labels)
    return files


def write_cifar_batches(folder: Path, official: Official) -> Path:
    """``official`` as <folder>/cifar-10-batches-py/{data_batch_1..5, test_batch} (folder e.g. <root>/CIFAR10)."""
    batches = folder / "cifar-10-batches-py"
    batches.mkdir(parents=True, exist_ok=True)
    for name, data in cifar_batches(official).items():
        (batches / name).write_bytes(data)
    return batches


def write_tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    """A .tar.gz holding ``members`` (name inside the archive -> content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_cifar_archive(path: Path, official: Official) -> Path:
    """``official`` as the published cifar-10-python.tar.gz: the batches under cifar-10-batches-py/."""
    return write_tar_gz(path, {f"cifar-10-batches-py/{name}": data for name, data in cifar_batches(official).items()})

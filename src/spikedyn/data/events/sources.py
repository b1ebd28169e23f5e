"""Where the neuromorphic datasets live on disk and how each file is read, through tonic.

tonic provides the downloads, checksums and file readers; this adds what it lacks: listing
that does not demand the whole dataset (so small test folders work), file orders that make
the papers' splits reproducible, integer labels for N-Caltech101, a message saying where to
put the files when a dataset is missing, and readers that treat files as untrusted: a damaged
file is an EventFileError naming it, never a crash or silently wrapped values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikedyn.data.events.aedat4 import read_aedat4
from spikedyn.data.events.errors import read_error

Listing = tuple[list[Path], np.ndarray]


@dataclass(frozen=True)
class EventSource:
    """One neuromorphic dataset: its sensor, classes, file listing, reader and download."""

    name: str
    tonic_class: str
    sensor_size: tuple[int, int, int]
    class_names: Callable[[Path], tuple[str, ...]]  # dataset folder -> names in label order
    official_split: bool  # has its own train/test split; else one per class from train_fraction
    list_files: Callable[[Path, bool], Listing]  # (dataset folder, train) -> files, labels; train ignored without official split
    read: Callable[[Path], np.ndarray]
    expected_layout: str

    def folder(self, root: str | Path) -> Path:
        """The dataset's folder under ``root``, tonic's ``save_to/<ClassName>``."""
        return Path(root) / self.tonic_class

    def download(self, root: str | Path, train: bool) -> None:
        """Fetch and extract with tonic (its URLs and MD5 checksums)."""
        import tonic.datasets

        cls = getattr(tonic.datasets, self.tonic_class)
        kwargs = {"train": train} if self.official_split else {}
        cls(save_to=str(root), **kwargs)

    def missing_message(self, root: str | Path) -> str:
        """Where to put which files, for a dataset that is not there."""
        import tonic.datasets

        cls = getattr(tonic.datasets, self.tonic_class)
        archives = [getattr(cls, a) for a in ("filename", "train_filename", "test_filename") if isinstance(getattr(cls, a, None), str)]
        urls = [getattr(cls, a) for a in ("url", "train_url", "test_url") if isinstance(getattr(cls, a, None), str)]
        return (
            f"{self.name} was not found under {self.folder(root)}: expected {self.expected_layout}. "
            f"Download {', '.join(dict.fromkeys(archives))} from {', '.join(dict.fromkeys(urls))} into {self.folder(root)} "
            f"and extract it there, or pass download=True to let tonic fetch and verify it."
        )


def _sorted_files(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.rglob(f"*{suffix}"), key=lambda p: str(p.relative_to(folder)))


def _trailing_number(path: Path) -> tuple[int, str]:
    match = re.search(r"(\d+)$", path.stem)
    return (int(match.group(1)) if match else -1, path.name)


# --------------------------------------------------------------------------- N-MNIST and N-Caltech101 (.bin)


def read_bin(path: Path, dtype: np.dtype) -> np.ndarray:
    """N-MNIST/N-Caltech101 .bin events through tonic's reader; a truncated file is an error."""
    from tonic.io import read_mnist_file

    size = path.stat().st_size
    if size % 5:
        raise read_error(path, f"{size} bytes is not a whole number of 5-byte events (truncated?)")
    return read_mnist_file(str(path), dtype=dtype)


def _nmnist_dtype() -> np.dtype:
    from tonic.datasets import NMNIST

    return NMNIST.dtype


def _list_nmnist(folder: Path, train: bool) -> Listing:
    split_folder = folder / ("Train" if train else "Test")
    files = [p for p in _sorted_files(split_folder, ".bin") if p.parent.name[-1:].isdigit()]
    return files, np.array([int(p.parent.name[-1]) for p in files], dtype=np.int64)


def _read_nmnist(path: Path) -> np.ndarray:
    return read_bin(path, _nmnist_dtype())


NMNIST_SOURCE = EventSource(
    name="nmnist",
    tonic_class="NMNIST",
    sensor_size=(34, 34, 2),
    class_names=lambda folder: tuple(str(d) for d in range(10)),
    official_split=True,
    list_files=_list_nmnist,
    read=_read_nmnist,
    expected_layout="Train/<digit>/*.bin and Test/<digit>/*.bin (the extracted train.zip and test.zip)",
)


#: N-Caltech101's recordings differ in size; after tonic's shift to the origin they fit 240 x 180.
NCALTECH101_SENSOR = (240, 180, 2)


def _ncaltech_classes(folder: Path) -> tuple[str, ...]:
    base = folder / "Caltech101"
    return tuple(sorted(p.name for p in base.iterdir() if p.is_dir())) if base.is_dir() else ()


def _list_ncaltech101(folder: Path, train: bool) -> Listing:
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(_ncaltech_classes(folder)):
        members = sorted((folder / "Caltech101" / name).glob("*.bin"), key=_trailing_number)
        files += members
        labels += [label] * len(members)
    return files, np.array(labels, dtype=np.int64)


def _read_ncaltech101(path: Path) -> np.ndarray:
    from tonic.datasets import NCALTECH101

    events = read_bin(path, NCALTECH101.dtype)
    if len(events):  # tonic's own step: recordings are placed at the origin
        events["x"] -= events["x"].min()
        events["y"] -= events["y"].min()
    return events


NCALTECH101_SOURCE = EventSource(
    name="ncaltech101",
    tonic_class="NCALTECH101",
    sensor_size=NCALTECH101_SENSOR,
    class_names=_ncaltech_classes,  # the class folders present, sorted: N-Caltech101's integer labels
    official_split=False,
    list_files=_list_ncaltech101,
    read=_read_ncaltech101,
    expected_layout="Caltech101/<class>/image_XXXX.bin (the extracted Caltech101.zip of N-Caltech101-archive.zip)",
)


# --------------------------------------------------------------------------- CIFAR10-DVS (.aedat4)


def _cifar10dvs_classes(folder: Path | None = None) -> tuple[str, ...]:
    from tonic.datasets import CIFAR10DVS

    return tuple(sorted(CIFAR10DVS.classes, key=CIFAR10DVS.classes.get))


def _list_cifar10dvs(folder: Path, train: bool) -> Listing:
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(_cifar10dvs_classes()):
        members = sorted((folder / name).glob("*.aedat4"), key=_trailing_number)
        files += members
        labels += [label] * len(members)
    return files, np.array(labels, dtype=np.int64)


CIFAR10DVS_SOURCE = EventSource(
    name="cifar10dvs",
    tonic_class="CIFAR10DVS",
    sensor_size=(128, 128, 2),
    class_names=_cifar10dvs_classes,
    official_split=False,
    list_files=_list_cifar10dvs,
    read=read_aedat4,  # aedat as tonic's read_aedat4 uses it, each file's structure checked first
    expected_layout="<class>/cifar10_<class>_<n>.aedat4 for the ten classes airplane ... truck (the extracted class zips)",
)


# --------------------------------------------------------------------------- DVS128 Gesture (.npy)


def _list_dvsgesture(folder: Path, train: bool) -> Listing:
    split_folder = folder / ("ibmGestureTrain" if train else "ibmGestureTest")
    files = [p for p in _sorted_files(split_folder, ".npy") if p.stem.isdigit() and p.parent != split_folder]
    return files, np.array([int(p.stem) for p in files], dtype=np.int64)


def _dvsgesture_classes(folder: Path) -> tuple[str, ...]:
    from tonic.datasets import DVSGesture

    return tuple(DVSGesture.classes)


#: DVS128 Gesture's sensor (W, H, P), as tonic gives it.
DVSGESTURE_SENSOR = (128, 128, 2)


def _read_dvsgesture(path: Path) -> np.ndarray:
    """tonic's DVSGesture file: [N, 4] of x, y, p, t in ms; every column checked on its raw values before any cast."""
    from tonic.datasets import DVSGesture

    try:
        table = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise read_error(path, error) from error
    if table.ndim != 2 or table.shape[1] != 4:
        raise read_error(path, f"expected an array [N, 4] of x, y, p, t(ms), got shape {table.shape}")
    width, height, polarities = DVSGESTURE_SENSOR
    events = np.zeros(len(table), dtype=DVSGesture.dtype)
    for column, (field, high) in enumerate((("x", width - 1), ("y", height - 1), ("p", polarities - 1))):
        events[field] = check_column(path, table[:, column], field, high, integral=True)
    milliseconds = check_column(path, table[:, 3], "t", np.iinfo(np.int64).max // 1000, integral=False)
    # tonic's own step, milliseconds to microseconds; fractional milliseconds are rounded to the microsecond
    if milliseconds.dtype.kind == "f":
        # In float64: a float16 t * 1000 overflows past 65.5 ms. check_column compared t with int64.max // 1000
        # exactly, so the largest float64 it lets through, 9223372036854774.0 ms, is 2**63 - 2048 us once
        # multiplied and rounded: the cast to int64 cannot wrap.
        events["t"] = np.rint(milliseconds.astype(np.float64) * 1000).astype(np.int64)
    else:
        events["t"] = milliseconds.astype(np.int64) * 1000
    return events


def check_column(path: Path, values: np.ndarray, field: str, high: int, integral: bool) -> np.ndarray:
    """``values`` if they are finite numbers in [0, high] (and whole when ``integral``), checked before any cast.

    An error names the file and the field: a cast first would wrap x = 65541 to 5 in int16, or
    read p = 7 as True.
    """
    expected = f"{'integers' if integral else 'numbers'} in [0, {high}]"
    kind = values.dtype.kind
    if kind not in "biuf":
        raise read_error(path, f"field {field} holds {values.dtype} values, expected {expected}")
    if kind == "f" and not np.all(np.isfinite(values)):
        raise read_error(path, f"field {field} holds non-finite values (NaN or infinity), expected {expected}")
    if kind == "f" and integral and np.any(values != np.floor(values)):
        raise read_error(path, f"field {field} holds the non-integer {values[values != np.floor(values)][0].item()}, expected {expected}")
    if len(values):
        low, top = values.min().item(), values.max().item()  # Python numbers compare exactly, with no cast to wrap or overflow
        if low < 0 or top > high:
            raise read_error(path, f"field {field} spans [{low}, {top}], expected {expected}")
    return values


DVSGESTURE_SOURCE = EventSource(
    name="dvs128_gesture",
    tonic_class="DVSGesture",
    sensor_size=DVSGESTURE_SENSOR,
    class_names=_dvsgesture_classes,
    official_split=True,
    list_files=_list_dvsgesture,
    read=_read_dvsgesture,
    expected_layout="ibmGestureTrain/userXX_<lighting>/<label>.npy and ibmGestureTest/... (the extracted tar.gz files)",
)


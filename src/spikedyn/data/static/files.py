"""The official files of MNIST, Fashion-MNIST and CIFAR-10: where they live, how they are read and fetched.

The four IDX files of MNIST and Fashion-MNIST (gzipped or not) are found in torchvision's
layout, ``<root>/MNIST/raw/`` and ``<root>/FashionMNIST/raw/``, so existing downloads are
reused, or flat in ``<root>`` itself. Without a root: ``data/<Layout>/raw``, then the system's
dataset folders (Debian's ``dataset-fashion-mnist`` installs them in
``/usr/share/datasets/fashion-mnist``). Debian's gz files are recompressed, so an archive's
MD5 says nothing: a file of the official size is checked by the MD5 of its decompressed
bytes, the digests published for the raw files (:data:`RAW_MD5`). ``<root>/CIFAR10/`` holds
``cifar-10-batches-py/`` or the ``cifar-10-python.tar.gz`` archive it comes from. With
``download=True`` missing files are fetched from the mirrors below and checked against their
published MD5.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import math
import os
import pickle
import struct
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spikedyn.data.download import fetch

MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b5f6714ad",
}
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
#: MD5 of the decompressed official files (the raw digests torchvision once published, and that other projects
#: list; Debian's recompressed Fashion-MNIST decompresses to exactly these bytes).
RAW_MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "Fashion-MNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
#: The decompressed size of each official IDX file (both datasets: 60,000 and 10,000 images of 28x28).
RAW_SIZES = {"train-images-idx3-ubyte": 47_040_016, "train-labels-idx1-ubyte": 60_008,
             "t10k-images-idx3-ubyte": 7_840_016, "t10k-labels-idx1-ubyte": 10_008}  # fmt: skip
#: Where the system's packages put the files (Debian: dataset-fashion-mnist), searched when no root is given.
SYSTEM_FOLDERS = {"MNIST": (Path("/usr/share/datasets/mnist"),), "Fashion-MNIST": (Path("/usr/share/datasets/fashion-mnist"),)}
#: The root searched first when none is given, as torchvision's default.
DEFAULT_ROOT = Path("data")
CIFAR10_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"

#: The (images, labels) files of each official part of MNIST and Fashion-MNIST.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
#: IDX magic numbers: 0x08 (unsigned bytes) then the number of dimensions.
IDX_IMAGES_MAGIC = 0x0803
IDX_LABELS_MAGIC = 0x0801
#: The pickled batches of each official part of CIFAR-10, inside ``cifar-10-batches-py/``.
CIFAR10_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CORRUPT = "corrupt or truncated: delete it and put a good copy there, or fetch it again with download=True"


# --- readers -----------------------------------------------------------------------------------------


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as file:
            return file.read()
    except FileNotFoundError:
        raise
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError, a cut-off stream an EOFError
        raise ValueError(f"{path} cannot be read ({type(error).__name__}: {error}); {CORRUPT}") from error


def _check_official(path: Path, data: bytes, title: str | None) -> None:
    """A file of an official file's name and decompressed size must have its digest: damage otherwise."""
    name = path.name.removesuffix(".gz")
    expected = RAW_MD5.get(title or "", {}).get(name)
    if expected is None or len(data) != RAW_SIZES[name]:
        return
    found = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if found != expected:
        raise ValueError(f"{path} has the size of the official {title} {name} but not its contents (MD5 of the decompressed "
                         f"bytes {found}, published {expected}); {CORRUPT}")  # fmt: skip


def read_idx(path: str | os.PathLike[str], magic: int, title: str | None = None) -> np.ndarray:
    """The uint8 array in IDX file ``path`` (gzipped if its name ends in .gz), whose magic number must be ``magic``.

    With ``title`` ("MNIST", "Fashion-MNIST"), a file with an official name and size is also
    checked against the official file's digest.
    """
    path = Path(path)
    data = _read_maybe_gzip(path)
    _check_official(path, data, title)
    dims = magic & 0xFF
    header = 4 + 4 * dims
    if len(data) < header:
        raise ValueError(f"{path} holds {len(data)} bytes, too few for an IDX header of {header}; {CORRUPT}")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise ValueError(f"{path} has magic number {found}, expected {magic} (an IDX file of {dims}-d unsigned bytes); {CORRUPT}")
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = header + math.prod(shape)
    if len(data) != expected:
        raise ValueError(f"{path} holds {len(data)} bytes but its header (shape {shape}) calls for {expected}; {CORRUPT}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_images(path: str | os.PathLike[str], title: str | None = None) -> np.ndarray:
    """Images uint8 [N, H, W] of an IDX images file (magic 2051)."""
    return read_idx(path, IDX_IMAGES_MAGIC, title)


def read_idx_labels(path: str | os.PathLike[str], title: str | None = None) -> np.ndarray:
    """Labels int64 [N] of an IDX labels file (magic 2049)."""
    return read_idx(path, IDX_LABELS_MAGIC, title).astype(np.int64)


_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]
# The globals a CIFAR batch may name (numpy arrays; bytes as Python 3 pickles them), under numpy 1's and 2's module names.
_CIFAR_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays, and refuses anything else: a pickle can run code."""

    def find_class(self, module: str, name: str) -> object:
        try:
            return _CIFAR_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"a CIFAR-10 batch holds only arrays, lists and bytes, yet this one names {module}.{name}") from None


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 3, 32, 32], labels int64 [N]) of one pickled CIFAR-10 batch (a dict with b"data", b"labels")."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            batch = _BatchUnpickler(file, encoding="bytes").load()
    except FileNotFoundError:
        raise
    except Exception as error:  # a damaged pickle fails in many ways: UnpicklingError, EOFError, ValueError, ...
        raise ValueError(f"{path} is not a readable CIFAR-10 batch ({type(error).__name__}: {error}); {CORRUPT}") from error
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 batch: expected a dict with keys b'data' and b'labels'; {CORRUPT}")
    data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: b'data' must be uint8 [N, 3072], got {data.dtype} {data.shape}; {CORRUPT}")
    if labels.shape != (len(data),) or (len(labels) and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"{path}: b'labels' must be {len(data)} integers, one per image, got {labels.dtype} {labels.shape}; {CORRUPT}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def check_labels(labels: np.ndarray, path: Path, num_classes: int) -> np.ndarray:
    """``labels`` if all lie in 0..num_classes-1, else a ValueError naming the file."""
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{path} has labels in [{labels.min()}, {labels.max()}], expected classes 0..{num_classes - 1}; {CORRUPT}")
    return labels


# --- files: where they are, fetched or unpacked when missing ---------------------------------------------


def _idx_file(folder: Path, name: str) -> Path | None:
    """``name`` in ``folder``, or the decompressed copy torchvision leaves beside it."""
    for path in (folder / name, folder / name.removesuffix(".gz")):
        if path.is_file():
            return path
    return None


def idx_folders(root: Path | None, layout: str, title: str) -> list[Path]:
    """Where the four IDX files may be, in the order searched: ``root/layout`` and ``root``, or without a root
    ``data/layout`` and the system's dataset folders."""
    if root is not None:
        return [root / layout, root]
    return [DEFAULT_ROOT / layout, *SYSTEM_FOLDERS.get(title, ())]


def idx_paths(root: Path | None, layout: str, part: str, download: bool, title: str, mirrors: Sequence[str], md5s: dict[str, str]) -> list[Path]:
    """The two IDX files (images, labels) of ``part``: from the first folder holding all four, fetched when missing and ``download``.

    The folder must hold all four files, since the test split is normalised by the training
    split's statistics; one holding only some is not taken. A missing file is an error naming
    every file missing from each folder searched, and the options that fix it.
    """
    folders = idx_folders(root, layout, title)
    every = [name for names in IDX_FILES.values() for name in names]
    for folder in folders:
        if all(_idx_file(folder, name) is not None for name in every):
            return [_idx_file(folder, name) for name in IDX_FILES[part]]  # type: ignore[misc]
    if download:
        folder = folders[0]
        for name in every:
            if _idx_file(folder, name) is None:
                fetch([mirror + name for mirror in mirrors], folder / name, md5s[name])
        return [_idx_file(folder, name) for name in IDX_FILES[part]]  # type: ignore[misc]
    looked = "; ".join(f"{folder}: {', '.join(name for name in every if _idx_file(folder, name) is None)} missing" for folder in folders)
    system = " (Debian: apt-get install dataset-fashion-mnist)" if title == "Fashion-MNIST" else ""
    raise FileNotFoundError(
        f"{title}: the four IDX files (gzipped or not) were not found; {looked}. Put the files from {mirrors[0]} in one of "
        f"those folders{system}, or set data.options.root=FOLDER (Python: root=FOLDER) to a folder holding them or holding "
        f"{layout}/, or fetch them with data.options.download=true (Python: download=True)"
    )


def _plain_members_only(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    """tarfile's "data" filter (nothing outside ``destination``, no links out, no devices), then relative folders and files only.

    The CIFAR-10 archive holds no links and no absolute names, so any is refused, even one that would stay inside.
    """
    if member.name.startswith("/") or os.path.isabs(member.name):
        raise tarfile.FilterError(f"member {member.name!r} has an absolute path; the CIFAR-10 archive holds only relative ones")
    member = tarfile.data_filter(member, destination)
    if not (member.isfile() or member.isdir()):
        raise tarfile.FilterError(f"member {member.name!r} is a link or special file; the CIFAR-10 archive holds only folders and files")
    return member


def _unpack_cifar(archive: Path, folder: Path) -> None:
    """Unpack ``cifar-10-batches-py/`` from ``archive`` into ``folder``, keeping batches already there.

    Members are extracted into a scratch folder inside ``folder`` through :func:`_plain_members_only`:
    a member that would land outside it, a link or a device is refused before it is written, and the
    scratch folder, with any members unpacked before it, is removed.
    """
    if not hasattr(tarfile, "data_filter"):
        raise RuntimeError(f"unpacking {archive} safely needs tarfile's extraction filters (Python 3.10.12, 3.11.4 or later)")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".unpack-") as scratch:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(scratch, filter=_plain_members_only)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ValueError(f"{archive} cannot be unpacked ({type(error).__name__}: {error}); {CORRUPT}") from error
        unpacked = Path(scratch) / CIFAR10_FOLDER
        if not unpacked.is_dir():
            raise ValueError(f"{archive} holds no {CIFAR10_FOLDER}/ folder: it is not the CIFAR-10 python archive; {CORRUPT}")
        target = folder / CIFAR10_FOLDER
        target.mkdir(exist_ok=True)
        for item in unpacked.iterdir():
            if not (target / item.name).exists():
                os.replace(item, target / item.name)


def cifar_paths(folder: Path, part: str, download: bool) -> list[Path]:
    """The pickled batches of ``part``, unpacked from the archive (fetched when ``download``) if needed."""
    batches = [folder / CIFAR10_FOLDER / name for name in CIFAR10_BATCHES[part]]
    if all(path.is_file() for path in batches):
        return batches
    archive = folder / CIFAR10_ARCHIVE
    if not archive.is_file():
        if not download:
            missing = [path.name for path in batches if not path.is_file()]
            raise FileNotFoundError(
                f"CIFAR-10: {', '.join(missing)} not found in {folder / CIFAR10_FOLDER}, and no {CIFAR10_ARCHIVE} in {folder}; "
                f"put {CIFAR10_URLS[0]} (or the {CIFAR10_FOLDER}/ folder it holds) in {folder}, or pass download=True to fetch it"
            )
        fetch(CIFAR10_URLS, archive, CIFAR10_MD5)
    _unpack_cifar(archive, folder)
    missing = [path.name for path in batches if not path.is_file()]
    if missing:
        raise ValueError(f"{archive} lacks {', '.join(missing)} in {CIFAR10_FOLDER}/; {CORRUPT}")
    return batches



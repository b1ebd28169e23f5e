"""Hostile NIR files for the drill: a real export of the toy PLIF net, tampered with through h5py."""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import h5py
import numpy as np
import torch

from spikedyn.interop import to_nir, write_nir
from tests.interop.helpers import tiny_plifnet

NODES = "node/nodes"
#: The last Linear of the toy net's classifier: a (3, 6) float32 weight, 72 bytes.
WEIGHT = f"{NODES}/classifier_7/weight"
SHAPE = (3, 6)


@cache
def _export_bytes() -> bytes:
    """The toy PLIF net written by ``write_nir``, exported once per test session."""
    folder = Path(tempfile.mkdtemp())
    try:
        return write_nir(to_nir(tiny_plifnet(), torch.zeros(2, 1, 2, 8, 8), 1e-4), folder / "tiny.nir").read_bytes()
    finally:
        shutil.rmtree(folder)


def exported(path: Path) -> Path:
    """A genuine NIR export of the toy net at ``path``."""
    path.write_bytes(_export_bytes())
    return path


def tampered(path: Path, change: Callable[[h5py.File], None]) -> Path:
    """A genuine export at ``path`` after ``change`` edited it in place."""
    with h5py.File(exported(path), "a") as file:
        change(file)
    return path


def secret_file(folder: Path) -> tuple[Path, bytes]:
    """A file of known bytes standing for the user's private data, at least one weight long."""
    secret = b"PRIVATE-KEY:" * 8
    path = folder / "secret.bin"
    path.write_bytes(secret)
    return path, secret


def secret_h5(folder: Path, secret: bytes) -> Path:
    """Another HDF5 file holding the secret as a (3, 6) float32 dataset ``/w``."""
    path = folder / "other.h5"
    with h5py.File(path, "w") as file:
        file["w"] = np.frombuffer(secret[:72], dtype="<f4").reshape(SHAPE)
    return path


def replace(file: h5py.File, name: str, **dataset: object) -> None:
    """Put a new dataset made with h5py's ``create_dataset`` options in place of ``name``."""
    del file[name]
    file.create_dataset(name, **dataset)


def set_values(file: h5py.File, name: str, edit: Callable[[np.ndarray], None]) -> None:
    """Rewrite the dataset ``name`` after ``edit`` changed its values in place."""
    values = file[name][()]
    edit(values)
    replace(file, name, data=values)


def gzip_stream(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes, compressed piece by piece so the zeros never sit in memory whole."""
    compressor, piece = zlib.compressobj(9), bytes(1 << 20)
    parts = [compressor.compress(piece) for _ in range(size // len(piece))]
    return b"".join(parts) + compressor.flush()


def nest(file: h5py.File, depth: int) -> None:
    """Add a node ``deep`` that is a NIR graph holding a graph ``deep`` ... ``depth`` levels down (their edges left out)."""
    group = file[NODES]
    for _ in range(depth):
        group = group.create_group("deep")
        group["type"] = np.bytes_("NIRGraph")
        group = group.create_group("nodes")


def loose_nodes(file: h5py.File, count: int) -> None:
    """Add ``count`` loose Scale nodes, all hard links to one group (cheap to write, each a node to a reader)."""
    nodes = file[NODES]
    first = nodes.create_group("loose0")
    first["type"] = np.bytes_("Scale")
    first["scale"] = np.ones(2)
    for index in range(1, count):
        nodes[f"loose{index}"] = first


def string_elements(path: Path, name: str) -> list[tuple[int, int, int, int]]:
    """(file offset, length, heap collection address, object index) of each variable-length string of dataset ``name``."""
    with h5py.File(path, "r") as file:
        offset, count = file[name].id.get_offset(), file[name].size
    raw = path.read_bytes()
    return [(at, *struct.unpack("<IQI", raw[at : at + 16])) for at in range(offset, offset + 16 * count, 16)]


def patch(path: Path, offset: int, data: bytes) -> None:
    """Overwrite the bytes of ``path`` at ``offset`` with ``data``, behind libhdf5's back."""
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(data)

"""NIR files written whole or not at all."""

from __future__ import annotations

import io
import os
from pathlib import Path

import nir

from spikedyn.atomic import write_bytes_atomically


def write_nir(graph: nir.NIRGraph, path: str | os.PathLike[str]) -> Path:
    """Write ``graph`` as a NIR (HDF5) file at ``path`` atomically, so no reader sees half a file."""
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    return write_bytes_atomically(path, buffer.getvalue())

"""An on-disk cache of integrated frames, keyed by everything that changes them.

Each cache lives in ``<root>/<dataset>-<key>/``, where key hashes the parameters (dataset,
T, split_by, resize, sensor, code version). Each sample is one file named after its source,
written to a temporary file and renamed, with a CRC32 of its payload: a killed build leaves
only whole entries (so it resumes where it stopped) and a damaged entry is detected and
rebuilt. Integer counts are stored as uint8/uint16 when they fit, so an epoch reads fast.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spikedyn.atomic import write_bytes_atomically

#: Bump when the frame integration or this file format changes: old caches are then never reused.
FRAME_CODE_VERSION = 2  # 2: events sorted by time before Eq. S1 slices them
_MAGIC = b"SDFRAME1"
_HEADER = struct.Struct("<8sIQ")  # magic, crc32 of payload, payload length
_STALE_TEMP_S = 600


def cache_key(parameters: Mapping[str, Any]) -> str:
    """A short stable hash of the parameters (JSON with sorted keys) and the code version."""
    text = json.dumps({**parameters, "frame_code_version": FRAME_CODE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _compact(frames: np.ndarray) -> np.ndarray:
    """The smallest exact dtype for ``frames``: uint8 or uint16 for counts, else float32."""
    if frames.size and np.all(frames == np.floor(frames)) and frames.min() >= 0:
        peak = frames.max()
        if peak <= np.iinfo(np.uint8).max:
            return frames.astype(np.uint8)
        if peak <= np.iinfo(np.uint16).max:
            return frames.astype(np.uint16)
    return frames.astype(np.float32)


class FrameCache:
    """Frames per source sample under a folder named by the hash of ``parameters``."""

    def __init__(self, root: str | Path, parameters: Mapping[str, Any]) -> None:
        if "dataset" not in parameters:
            raise ValueError("cache parameters must name the dataset")
        self.parameters = dict(parameters)
        self.folder = Path(root) / f"{parameters['dataset']}-{cache_key(parameters)}"
        self.folder.mkdir(parents=True, exist_ok=True)
        description = self.folder / "parameters.json"
        if not description.exists():
            text = json.dumps({**self.parameters, "frame_code_version": FRAME_CODE_VERSION}, indent=1, sort_keys=True, default=str)
            write_bytes_atomically(description, text.encode(), durable=False)
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        cutoff = time.time() - _STALE_TEMP_S
        for leftover in self.folder.glob(".*.tmp"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except FileNotFoundError:
                pass

    def path(self, entry: str) -> Path:
        """The file of ``entry`` (any string naming a source sample, e.g. its relative path)."""
        return self.folder / (hashlib.sha1(entry.encode()).hexdigest()[:24] + ".frames")

    def load(self, entry: str) -> np.ndarray | None:
        """The cached frames of ``entry``, or None when absent or damaged (a damaged file is removed)."""
        path = self.path(entry)
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            return None
        frames = self._decode(blob)
        if frames is None:
            warnings.warn(f"frame cache entry {path} for {entry!r} is damaged; rebuilding it", RuntimeWarning, stacklevel=2)
            path.unlink(missing_ok=True)
        return frames

    @staticmethod
    def _decode(blob: bytes) -> np.ndarray | None:
        if len(blob) < _HEADER.size:
            return None
        magic, crc, length = _HEADER.unpack_from(blob)
        payload = memoryview(blob)[_HEADER.size :]
        if magic != _MAGIC or length != len(payload) or zlib.crc32(payload) != crc:
            return None
        try:
            return np.load(io.BytesIO(payload), allow_pickle=False)
        except (ValueError, OSError):
            return None

    def store(self, entry: str, frames: np.ndarray) -> None:
        """Write ``entry``'s frames atomically (temporary file, then rename)."""
        buffer = io.BytesIO()
        np.save(buffer, _compact(frames), allow_pickle=False)
        payload = buffer.getvalue()
        write_bytes_atomically(self.path(entry), _HEADER.pack(_MAGIC, zlib.crc32(payload), len(payload)) + payload, durable=False)

    def get_or_build(self, entry: str, build: Callable[[], np.ndarray]) -> np.ndarray:
        """Cached frames of ``entry``, built with ``build()`` and stored when absent or damaged."""
        frames = self.load(entry)
        if frames is None:
            frames = build()
            self.store(entry, frames)
        return frames

    def __contains__(self, entry: str) -> bool:
        return self.path(entry).exists()

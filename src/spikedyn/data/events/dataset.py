"""Neuromorphic datasets as frames: read events, integrate (Eq. S1), resize, cache, augment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from spikedyn.data.base import DatasetInfo, FrameDataset, Transform
from spikedyn.data.cache import FrameCache
from spikedyn.data.download import digest_of
from spikedyn.data.events.errors import EventFileError, read_error
from spikedyn.data.events.frames import SPLIT_BY, events_to_frames

#: How a cache entry recognises its source file: "stat", its size and modification time (ns);
#: "hash", its size and SHA-256, for file systems whose modification times cannot be trusted.
CACHE_VERIFY = ("stat", "hash")
#: Files named in full when :meth:`EventFrameDataset.prepare_cache` reports those it could not read.
_LISTED_FAILURES = 10


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """Frames [T, P, H, W] resized to size x size, bilinear with antialiasing (the IMP paper's 48 x 48)."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))
    resized = F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return resized.numpy()


class EventFrameDataset(FrameDataset):
    """Frames [T, P, H, W] of event files: read, integrated over T slices, resized, cached on disk."""

    def __init__(
        self,
        info: DatasetInfo,
        files: list[Path],
        labels: np.ndarray,
        read: Callable[[Path], np.ndarray],
        sensor_size: tuple[int, int, int],
        *,
        data_folder: Path,
        split_by: str = "number",
        resize: int | None = None,
        cache: FrameCache | None = None,
        cache_verify: str = "stat",
        transform: Transform | None = None,
    ) -> None:
        super().__init__(info, labels, transform)
        if len(files) != len(self.labels):
            raise ValueError(f"{len(files)} files but {len(self.labels)} labels")
        if split_by not in SPLIT_BY:
            raise ValueError(f"split_by={split_by!r} is not supported; expected one of {list(SPLIT_BY)}")
        if cache_verify not in CACHE_VERIFY:
            raise ValueError(f"cache_verify={cache_verify!r} is not known; expected one of {list(CACHE_VERIFY)}")
        self.files = list(files)
        self.read = read
        self.sensor_size = sensor_size
        self.data_folder = Path(data_folder)
        self.split_by = split_by
        self.resize = resize
        self.cache = cache
        self.cache_verify = cache_verify

    def integrate(self, index: int) -> np.ndarray:
        """The frames of sample ``index`` computed from its event file (no cache)."""
        path = self.files[index]
        events = self.read(path)
        try:
            frames = events_to_frames(events, self.sensor_size, self.info.time_steps, self.split_by)
        except ValueError as error:
            raise read_error(path, error) from error
        return frames if self.resize is None else resize_frames(frames, self.resize)

    def entry(self, index: int) -> str:
        """The cache entry name of sample ``index``: its path inside the dataset folder and a stamp of its content.

        With ``cache_verify="stat"`` the stamp is the size and the modification time in ns, so a
        file rewritten at the same size gets a new entry; with ``"hash"`` it is the size and the
        SHA-256 of the content, which reads the whole file at every access.
        """
        path = self.files[index]
        name = path.relative_to(self.data_folder).as_posix()
        if self.cache_verify == "hash":
            return f"{name}:{path.stat().st_size}:sha256={digest_of(path, 'sha256')}"
        stat = path.stat()
        return f"{name}:{stat.st_size}:{stat.st_mtime_ns}"

    def frames(self, index: int) -> torch.Tensor:
        if self.cache is None:
            frames = self.integrate(index)
        else:
            frames = self.cache.get_or_build(self.entry(index), lambda: self.integrate(index))
        return torch.from_numpy(frames.astype(np.float32, copy=False))

    def build_entry(self, index: int) -> str:
        """Integrate sample ``index`` into the cache; the reason it could not be read ("" if it was)."""
        try:
            self.cache.store(self.entry(index), self.integrate(index))  # type: ignore[union-attr]
        except EventFileError as error:
            return str(error)
        return ""

    def prepare_cache(self, num_workers: int = 0) -> int:
        """Integrate and store every sample not yet cached (in ``num_workers`` processes); returns how many.

        A file that cannot be read does not stop the build: every other sample is cached first,
        then one EventFileError lists the files that failed and why.
        """
        if self.cache is None:
            return 0
        missing = [i for i in range(len(self)) if self.entry(i) not in self.cache]
        if num_workers > 0 and missing:
            loader = torch.utils.data.DataLoader(_Builder(self, missing), batch_size=None, num_workers=num_workers)
            failures = [reason for reason in loader if reason]
        else:
            failures = [reason for reason in map(self.build_entry, missing) if reason]
        if failures:
            listed = "\n  ".join(failures[:_LISTED_FAILURES])
            more = f"\n  ... and {len(failures) - _LISTED_FAILURES} more" if len(failures) > _LISTED_FAILURES else ""
            raise EventFileError(f"{len(failures)} of {len(missing)} event files could not be read (the others are cached):\n  {listed}{more}")
        return len(missing)


class _Builder(torch.utils.data.Dataset):
    """Builds cache entries in DataLoader worker processes; yields why a file failed, or ""."""

    def __init__(self, dataset: EventFrameDataset, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> str:
        return self.dataset.build_entry(self.indices[position])

"""Neuromorphic datasets as frames: read events, integrate (Eq. S1), resize, cache, augment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from spikedyn.data.base import DatasetInfo, FrameDataset, Transform
from spikedyn.data.cache import FrameCache
from spikedyn.data.event_sources import read_error
from spikedyn.data.frames import SPLIT_BY, events_to_frames


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
        transform: Transform | None = None,
    ) -> None:
        super().__init__(info, labels, transform)
        if len(files) != len(self.labels):
            raise ValueError(f"{len(files)} files but {len(self.labels)} labels")
        if split_by not in SPLIT_BY:
            raise ValueError(f"split_by={split_by!r} is not supported; expected one of {list(SPLIT_BY)}")
        self.files = list(files)
        self.read = read
        self.sensor_size = sensor_size
        self.data_folder = Path(data_folder)
        self.split_by = split_by
        self.resize = resize
        self.cache = cache

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
        """The cache entry name of sample ``index``: its path inside the dataset folder and its size."""
        path = self.files[index]
        return f"{path.relative_to(self.data_folder).as_posix()}:{path.stat().st_size}"

    def frames(self, index: int) -> torch.Tensor:
        if self.cache is None:
            frames = self.integrate(index)
        else:
            frames = self.cache.get_or_build(self.entry(index), lambda: self.integrate(index))
        return torch.from_numpy(frames.astype(np.float32, copy=False))

    def prepare_cache(self, num_workers: int = 0) -> int:
        """Integrate and store every sample not yet cached (in ``num_workers`` processes); returns how many."""
        if self.cache is None:
            return 0
        missing = [i for i in range(len(self)) if self.entry(i) not in self.cache]
        if num_workers > 0 and missing:
            loader = torch.utils.data.DataLoader(_Builder(self, missing), batch_size=None, num_workers=num_workers)
            for _ in loader:
                pass
        else:
            for index in missing:
                self.cache.store(self.entry(index), self.integrate(index))
        return len(missing)


class _Builder(torch.utils.data.Dataset):
    """Builds cache entries in DataLoader worker processes; yields nothing of size."""

    def __init__(self, dataset: EventFrameDataset, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> int:
        index = self.indices[position]
        self.dataset.cache.store(self.dataset.entry(index), self.dataset.integrate(index))
        return index

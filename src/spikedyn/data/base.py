"""What every spikedyn dataset is: (frames [T, C, H, W] float32, label int) with its metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DatasetInfo:
    """What a model and a trainer need to know about a dataset before reading a sample."""

    name: str
    num_classes: int
    frame_shape: tuple[int, ...]  # (C, H, W) for the packaged datasets; any per-step shape for a user's own
    time_steps: int
    classes: tuple[str, ...] = ()


class FrameDataset(Dataset):
    """Samples (frames [T, C, H, W] float32, int label) of one split, with ``info`` and ``labels``.

    Subclasses implement :meth:`frames` (the untransformed frames of sample ``index``);
    ``transform`` (augmentation, normalisation) is applied to them here.
    """

    def __init__(self, info: DatasetInfo, labels: np.ndarray, transform: Transform | None = None) -> None:
        self.info = info
        self.labels = np.asarray(labels, dtype=np.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def frames(self, index: int) -> torch.Tensor:
        """Frames [T, C, H, W] float32 of sample ``index`` before the transform."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {self.info.name} with {len(self)} samples")
        frames = self.frames(index % len(self))
        if self.transform is not None:
            frames = self.transform(frames)
        return frames, int(self.labels[index])

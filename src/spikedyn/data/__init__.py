"""Datasets by name, each yielding (frames [T, C, H, W] float32, label int): static images,
the offline digits, and neuromorphic event streams integrated into frames (Eq. S1), cached."""

from spikedyn.data import digits, event_digits, imagenet, neuromorphic, static  # noqa: F401  (register the datasets)
from spikedyn.data.base import DatasetInfo, FrameDataset
from spikedyn.data.cache import FrameCache
from spikedyn.data.event_errors import EventFileError
from spikedyn.data.frames import events_to_frames
from spikedyn.data.options import OptionError
from spikedyn.data.registry import build_dataset, dataset_defaults, dataset_options, list_datasets
from spikedyn.data.splits import SPLITS

__all__ = [
    "SPLITS",
    "DatasetInfo",
    "EventFileError",
    "FrameCache",
    "FrameDataset",
    "OptionError",
    "build_dataset",
    "dataset_defaults",
    "dataset_options",
    "events_to_frames",
    "list_datasets",
]

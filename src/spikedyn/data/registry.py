"""Datasets by name: ``build_dataset("dvs128_gesture", "train", root="data", time_steps=20)``."""

from __future__ import annotations

from spikedyn.data.base import FrameDataset
from spikedyn.data.splits import check_split
from spikedyn.registry import Registry

DATASETS: Registry[FrameDataset] = Registry("dataset", positional=("split",))
register_dataset = DATASETS.register


def list_datasets() -> list[str]:
    """The names :func:`build_dataset` knows, sorted."""
    return DATASETS.names()


def dataset_options(name: str) -> list[str]:
    """The keyword options of dataset ``name`` (besides ``split``)."""
    return DATASETS.options(name)


def dataset_defaults(name: str) -> dict[str, object]:
    """{option: default} of dataset ``name``: the values a config that leaves an option out trains with."""
    return DATASETS.defaults(name)


def build_dataset(name: str, split: str, **options: object) -> FrameDataset:
    """The ``split`` ("train", "val" or "test") of dataset ``name``; unknown names and options list the valid ones."""
    return DATASETS.build(name, check_split(split), **options)

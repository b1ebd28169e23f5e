"""Datasets by name: ``build_dataset("dvs128_gesture", "train", root="data", time_steps=20)``.

A name may also be a user's dataset callable, ``"package.module:callable"`` or an entry point
of group ``spikedyn.datasets``: its contract is in :mod:`spikedyn.data.plugin_dataset`.
"""

from __future__ import annotations

from spikedyn.data.base import FrameDataset
from spikedyn.data.plugin_dataset import SPLIT_OPTIONS, plugin_dataset, splits_itself
from spikedyn.data.splits import check_split
from spikedyn.registry import Registry

DATASETS: Registry[FrameDataset] = Registry("dataset", positional=("split",), entry_point_group="spikedyn.datasets")
register_dataset = DATASETS.register


def list_datasets() -> list[str]:
    """The names :func:`build_dataset` knows, sorted."""
    return DATASETS.names()


def _carved_by_spikedyn(name: str) -> bool:
    """Whether ``name`` is a user's dataset whose validation split spikedyn carves (see plugin_dataset)."""
    return not DATASETS.is_builtin(name) and not splits_itself(DATASETS.builder(name))


def dataset_options(name: str) -> list[str]:
    """The keyword options of dataset ``name`` (besides ``split``)."""
    options = DATASETS.options(name)
    return options + [key for key in SPLIT_OPTIONS if key not in options] if _carved_by_spikedyn(name) else options


def dataset_defaults(name: str) -> dict[str, object]:
    """{option: default} of dataset ``name``: the values a config that leaves an option out trains with."""
    defaults = DATASETS.defaults(name)
    return {**SPLIT_OPTIONS, **defaults} if _carved_by_spikedyn(name) else defaults


def build_dataset(name: str, split: str, **options: object) -> FrameDataset:
    """The ``split`` ("train", "val" or "test") of dataset ``name``; unknown names and options list the valid ones."""
    split = check_split(split)
    if DATASETS.is_builtin(name):
        return DATASETS.build(name, split, **options)
    builder = DATASETS.builder(name)
    valid = dataset_options(name)
    unknown = [option for option in options if option not in valid]
    if unknown and not DATASETS.takes_any_option(name):
        raise TypeError(f"dataset {name!r} has no option {unknown[0]!r}; its options: {', '.join(valid)}")
    return plugin_dataset(name, builder, split, dict(options))

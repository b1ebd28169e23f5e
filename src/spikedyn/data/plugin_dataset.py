"""A user's own dataset (by import path or entry point) served as spikedyn serves its own: splits, info, labels.

The contract of a dataset callable, ``data.dataset: "package.module:callable"``:

- It is called as ``callable(split=..., **data.options)`` and returns a map-style dataset
  (``__len__`` and ``__getitem__``) whose items are ``(frames, label)``: frames a float tensor
  (or numpy array) ``[T, *shape]``, the same shape for every sample, and an int label in
  ``[0, num_classes)``. Packaged networks take ``shape = (C, H, W)``; a network of your own
  may take any shape (``(features,)`` for example).
- ``split`` is ``"train"`` or ``"test"``: protocol B's validation split is carved out of the
  training split by spikedyn, ``val_fraction`` of each class (default 0.15, the PLIF paper's)
  chosen at random with ``split_seed`` (default 0); both are options of every such dataset.
  A callable that names a ``val_fraction`` parameter is instead asked for ``"train"``,
  ``"val"`` and ``"test"`` itself, with ``val_fraction`` (0 under protocol A), as the
  packaged datasets are.
- What a model is built for comes from the dataset: an ``info`` attribute holding a
  :class:`~spikedyn.data.base.DatasetInfo` is taken as it is. Otherwise the number of classes
  is a ``num_classes`` attribute, or the length of a ``classes`` attribute (class names), or
  else the largest label + 1; T and the frame shape are those of the first sample.
- The labels of the whole split are its ``labels`` or ``targets`` attribute when it has one
  of the right length; otherwise spikedyn reads every item once to learn them (needed for the
  per-class validation split).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from spikedyn.data.base import DatasetInfo, FrameDataset
from spikedyn.data.options import check_fraction
from spikedyn.data.splits import VALIDATION_FRACTION, check_split_seed, stratified_holdout
from spikedyn.plugins import PluginError

#: The options spikedyn handles for a dataset callable that does not split off validation itself.
SPLIT_OPTIONS: dict[str, object] = {"val_fraction": VALIDATION_FRACTION, "split_seed": 0}


def splits_itself(builder: Callable[..., Any]) -> bool:
    """Whether a dataset callable serves "val" itself (it names a ``val_fraction`` parameter)."""
    try:
        return "val_fraction" in inspect.signature(builder).parameters
    except (TypeError, ValueError):
        return False


def _frames_tensor(frames: object, where: str) -> torch.Tensor:
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(frames)
    if not isinstance(frames, torch.Tensor) or not frames.is_floating_point():
        got = f"a {frames.dtype} tensor" if isinstance(frames, torch.Tensor) else f"a {type(frames).__name__}"
        raise PluginError(f"{where}: frames must be a float tensor [T, *shape], got {got}")
    return frames


def _item(dataset: Any, index: int, where: str) -> tuple[torch.Tensor, int]:
    item = dataset[index]
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise PluginError(f"{where}: item {index} must be a pair (frames, label), got {type(item).__name__}")
    frames, label = item
    if isinstance(label, torch.Tensor) and label.numel() == 1:
        label = label.item()
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise PluginError(f"{where}: the label of item {index} must be an int, got {label!r}")
    return _frames_tensor(frames, f"{where}, item {index}"), int(label)


def _labels(dataset: Any, where: str) -> np.ndarray:
    for attribute in ("labels", "targets"):
        labels = getattr(dataset, attribute, None)
        if labels is not None and len(labels) == len(dataset):
            return np.asarray(labels, dtype=np.int64)
    return np.array([_item(dataset, index, where)[1] for index in range(len(dataset))], dtype=np.int64)


def _info(name: str, dataset: Any, labels: np.ndarray, where: str) -> DatasetInfo:
    info = getattr(dataset, "info", None)
    if isinstance(info, DatasetInfo):
        return info
    if len(dataset) == 0:
        raise PluginError(f"{where}: the dataset is empty, so its frame shape is unknown (give it an info attribute, a DatasetInfo)")
    frames, _ = _item(dataset, 0, where)
    if frames.dim() < 2:
        raise PluginError(f"{where}: frames must be [T, *shape] with at least one feature dim, got shape {tuple(frames.shape)}")
    classes = getattr(dataset, "classes", None)
    names = tuple(str(c) for c in classes) if isinstance(classes, Sequence) and not isinstance(classes, str) else ()
    count = getattr(dataset, "num_classes", None)
    if count is None:
        count = len(names) if names else int(labels.max()) + 1 if len(labels) else 0
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise PluginError(f"{where}: num_classes must be an int >= 1, got {count!r}")
    return DatasetInfo(name=name, num_classes=int(count), frame_shape=tuple(int(d) for d in frames.shape[1:]),
                       time_steps=int(frames.shape[0]), classes=names)  # fmt: skip


class PluginDataset(FrameDataset):
    """A user's dataset (or a subset of it by ``indices``) with spikedyn's ``info`` and ``labels``; each item is checked."""

    def __init__(self, name: str, dataset: Any, info: DatasetInfo, labels: np.ndarray, indices: np.ndarray | None = None) -> None:
        self.base = dataset
        self.indices = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.where = f"dataset {name!r}"
        super().__init__(info, labels[self.indices])

    def frames(self, index: int) -> torch.Tensor:
        return self[index][0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {self.info.name} with {len(self)} samples")
        frames, label = _item(self.base, int(self.indices[index]), self.where)
        expected = (self.info.time_steps, *self.info.frame_shape)
        if tuple(frames.shape) != expected:
            raise PluginError(f"{self.where}: item {int(self.indices[index])} has frames of shape {tuple(frames.shape)}, "
                              f"but the dataset's are [T, *shape] = {list(expected)} (every sample must have the same shape)")  # fmt: skip
        if not 0 <= label < self.info.num_classes:
            raise PluginError(f"{self.where}: item {int(self.indices[index])} has label {label}, outside [0, {self.info.num_classes})")
        return frames.float() if frames.dtype != torch.float32 else frames, label


def _call(name: str, builder: Callable[..., Any], split: str, options: dict[str, Any]) -> Any:
    try:
        parameters = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        parameters = []
    if parameters and not any(p.name == "split" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        raise PluginError(f"dataset {name!r}: its callable must take a keyword 'split' (\"train\" or \"test\", or \"val\" where it names val_fraction)")
    dataset = builder(split=split, **options)
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise PluginError(f"dataset {name!r}: it returned a {type(dataset).__name__}, not a map-style dataset (with __len__ and __getitem__)")
    return dataset


#: The last training split read, kept so that "train" and "val", carved from it, read it once.
_last_read: dict[str, tuple[Any, np.ndarray, DatasetInfo]] = {}


def _read(name: str, builder: Callable[..., Any], split: str, options: dict[str, Any]) -> tuple[Any, np.ndarray, DatasetInfo]:
    """(dataset, its labels, its info) of one split as the callable returns it."""
    key = repr((name, split, sorted(options.items(), key=lambda item: item[0])))
    if key in _last_read:
        return _last_read[key]
    where = f"dataset {name!r}"
    dataset = _call(name, builder, split, options)
    labels = _labels(dataset, where)
    read = (dataset, labels, _info(name, dataset, labels, where))
    _last_read.clear()
    _last_read[key] = read
    return read


def plugin_dataset(name: str, builder: Callable[..., Any], split: str, options: dict[str, Any]) -> PluginDataset:
    """The ``split`` of the user's dataset ``name`` as a :class:`PluginDataset`, validation carved by spikedyn unless it splits itself."""
    options = dict(options)
    if splits_itself(builder):
        dataset, labels, info = _read(name, builder, split, options)
        return PluginDataset(name, dataset, info, labels)
    settings = {key: options.pop(key, default) for key, default in SPLIT_OPTIONS.items()}
    fraction = check_fraction("val_fraction", settings["val_fraction"])
    seed = check_split_seed(settings["split_seed"])
    dataset, labels, info = _read(name, builder, "test" if split == "test" else "train", options)
    if split == "test":
        return PluginDataset(name, dataset, info, labels)
    kept, held_out = stratified_holdout(labels, fraction, seed)
    return PluginDataset(name, dataset, info, labels, kept if split == "train" else held_out)

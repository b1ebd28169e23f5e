"""Dotted config keys checked against the experiment schema, so a sweep file's typos are found before anything runs."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from spikedyn.training.config.types import field_names, field_types, unknown_key
from spikedyn.training.config.schema import ExperimentConfig


def _takes_any_key(tp: object) -> bool:
    """Whether a schema field is a free mapping (``options``, ``sources``, a per-layer ``lam``) that takes keys of its own."""
    options = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    return any(typing.get_origin(option) is dict for option in options)


def key_problem(key: object) -> str | None:
    """Why ``key`` is not a dotted key of the experiment config (naming the nearest valid one), or None when it is."""
    if not isinstance(key, str) or not all(key.split(".")):
        return f"{key!r} is not a dotted config key such as model.neuron.tau"
    parts = key.split(".")
    cls: type = ExperimentConfig
    for depth, part in enumerate(parts):
        names = field_names(cls)
        if part not in names:
            return unknown_key(".".join(parts[:depth]) + "." if depth else "", part, names)
        tp = field_types(cls)[part]
        if dataclasses.is_dataclass(tp):
            cls = tp
            continue
        if depth + 1 < len(parts) and not _takes_any_key(tp):
            return f"{'.'.join(parts[: depth + 1])} is a value, not a section, so it has no key {parts[depth + 1]!r}"
        return None
    return None


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as {"dotted.key": value}; keys may already be dotted."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat

"""Experiment configs: load YAML (with ``extends:`` and dotted overrides), validate, save.

A config file is a YAML mapping shaped like :class:`~spikedyn.training.config.schema.ExperimentConfig`;
what it leaves out takes the schema's default. ``extends: base.yaml`` (relative to the file)
merges that file first: mappings merge key by key, the child winning; lists and scalars
replace. Overrides ``"dotted.key=value"`` (value read as YAML) apply last. Every problem is a
:class:`ConfigError` naming the file and the dotted key, found at load, not mid-training.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from spikedyn.atomic import write_bytes_atomically
from spikedyn.training.config.checks import (
    check_choices,
    check_loggers,
    check_names,
    check_neuron,
    check_numbers,
    check_protocol,
    check_registries,
    check_regularizer,
    check_sources,
    raise_problems,
)
from spikedyn.training.config.types import (
    ConfigError,
    Problems,
    build,
    cut,
    field_names,
    field_types,
    shown,
    unknown_key,
)
from spikedyn.training.config.resolve import resolved
from spikedyn.training.config.reading import parse_yaml, read_file
from spikedyn.training.config.schema import ExperimentConfig



def config_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> ExperimentConfig:
    """The validated config of a (possibly partial) mapping; missing keys take the schema and dataset defaults."""
    problems: Problems = []
    cfg = build(ExperimentConfig, data, "", problems)
    if problems:
        raise_problems(source, problems)
    assert isinstance(cfg, ExperimentConfig)
    for check in (check_choices, check_loggers, check_names, check_neuron, check_numbers, check_protocol, check_regularizer, check_sources):
        check(cfg, problems)
    check_registries(cfg, problems)
    if problems:
        raise_problems(source, problems)
    return resolved(cfg)


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """The config as plain nested dicts and lists (YAML-able), keys in schema order."""
    return dataclasses.asdict(cfg)


def config_differences(ours: ExperimentConfig, theirs: ExperimentConfig) -> list[str]:
    """The dotted keys whose values differ between two configs, sorted; dataset options compare with their defaults filled in.

    So a run folder saved before config.yaml held the resolved dataset options still matches
    the config that trains it now.
    """

    def walk(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str) -> list[str]:
        keys = []
        for key in sorted(a.keys() | b.keys()):
            mine, other = a.get(key), b.get(key)
            if isinstance(mine, dict) and isinstance(other, dict):
                keys += walk(mine, other, f"{prefix}{key}.")
            elif mine != other:
                keys.append(f"{prefix}{key}")
        return keys

    return walk(config_to_dict(resolved(ours)), config_to_dict(resolved(theirs)), "")


def _split_override(override: str) -> tuple[list[str], object]:
    if not isinstance(override, str) or "=" not in override:
        raise ConfigError(f"override {shown(override)}: expected 'dotted.key=value' (e.g. trainer.max_epochs=5)")
    key, text = override.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override {shown(override)}: the key {key.strip()!r} must be dotted names (e.g. model.neuron.tau)")
    return parts, parse_yaml(text, f"override {shown(override)}")


def _apply_override(data: dict[str, Any], override: str) -> None:
    """Set the dotted key of ``override`` in ``data`` (schema keys checked; free dicts take new keys)."""
    parts, value = _split_override(override)
    _set_key(data, parts, value, override)


def _set_key(data: dict[str, Any], parts: list[str], value: object, override: str) -> None:
    """Set ``data[parts[0]][parts[1]]... = value``; ``override`` is how errors name the setting."""
    cls: type | None = ExperimentConfig
    node = data
    for depth, part in enumerate(parts):
        dotted = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if cls is not None:  # inside the schema: the key must exist
            names = field_names(cls)
            if part not in names:
                prefix = ".".join(parts[:depth]) + "." if depth else ""
                raise ConfigError(f"override {shown(override)}: {unknown_key(prefix, part, names)}")
            tp = field_types(cls)[part]
            cls = tp if dataclasses.is_dataclass(tp) else None
        if last:
            node[part] = value
            return
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override {shown(override)}: {dotted} is {shown(child)}, not a mapping, so it has no key {parts[depth + 1]!r}")
        node = child


def _overlay(cls: type, defaults: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` over the defaults, section by section; a value given (a free dict too) replaces."""
    result = copy.deepcopy(defaults)
    hints = field_types(cls)
    for key, value in data.items():
        tp = hints.get(key) if isinstance(key, str) else None
        if tp is not None and dataclasses.is_dataclass(tp) and isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _overlay(tp, result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def config_source(path: str | Path | None = None, overrides: Sequence[str] = ()) -> str:
    """How errors name a config: its file (``<defaults>`` without one) and the overrides applied to it."""
    source = "<defaults>" if path is None else str(path)
    return f"{source} (with overrides {', '.join(cut(str(override)) for override in overrides)})" if overrides else source


def config_with_values(base: Mapping[str, Any], values: Mapping[str, object], source: str = "<dict>") -> ExperimentConfig:
    """The validated config of the mapping ``base`` with ``{"dotted.key": value}`` set, as overrides set them.

    The values are Python objects, not YAML text: ``{"trainer.max_epochs": 5,
    "model.options.hidden": 64}``. Keys are checked against the schema (free dicts such as
    ``model.options`` take new keys); every problem is a :class:`ConfigError` naming ``source``.
    """
    data = _overlay(ExperimentConfig, config_to_dict(ExperimentConfig()), base)
    for key, value in values.items():
        parts = key.split(".") if isinstance(key, str) else []
        if not parts or not all(parts):
            raise ConfigError(f"{source}: setting {shown(key)}: the key must be dotted names (e.g. trainer.max_epochs)")
        try:
            _set_key(data, parts, copy.deepcopy(value), f"{key}={cut(repr(value))}")
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
    return config_from_dict(data, source)


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """The validated config of ``path`` (None: the schema defaults) with ``overrides`` applied.

    Overrides are ``"dotted.key=value"`` with the value read as YAML: ``trainer.max_epochs=5``,
    ``regularizer.lam=[0.1,0.01]``, ``model.neuron.imp=null``; they act on the config as the
    file (and defaults) make it, so ``model.options.input_size=16`` keeps the other options.
    """
    if isinstance(overrides, str):
        raise ConfigError(f"overrides must be a sequence of 'dotted.key=value' strings, not one string: {shown(overrides)}")
    source = config_source(path)
    raw = {} if path is None else read_file(Path(path), ())
    if overrides:
        data = _overlay(ExperimentConfig, config_to_dict(ExperimentConfig()), raw)
        for override in overrides:
            try:
                _apply_override(data, override)
            except ConfigError as error:
                raise ConfigError(f"{source}: {error}") from None
        raw = data
    return config_from_dict(raw, config_source(path, overrides))


def config_yaml(cfg: ExperimentConfig) -> str:
    """``cfg`` as YAML, every key written out in schema order (dataset options with their defaults)."""
    if not isinstance(cfg, ExperimentConfig):
        raise TypeError(f"cfg must be an ExperimentConfig, got {type(cfg).__name__}")
    return yaml.safe_dump(config_to_dict(resolved(cfg)), sort_keys=False, default_flow_style=False, allow_unicode=True)


def save_config(cfg: ExperimentConfig, path: str | Path) -> Path:
    """Write ``cfg`` as YAML to ``path`` atomically; :func:`load_config` reads back an equal config."""
    return write_bytes_atomically(path, config_yaml(cfg).encode("utf-8"))

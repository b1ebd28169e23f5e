"""Reading config YAML: YAML 1.2 scalars, ``extends:`` chains, merging mappings key by key."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from spikedyn.training.config_types import ConfigError


class _Loader(yaml.SafeLoader):
    """safe_load with YAML 1.2's plain scalars: ``1e-3`` is a float, only true/false are booleans.

    (YAML 1.1 reads ``1e-3`` as a string and ``on``, ``yes``, ``off`` as booleans, which would
    turn the key ``regularizer.on`` into True.)
    """


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, where: str) -> object:
    """YAML text (1.2 scalars) to Python values; a ConfigError naming ``where`` when it is not valid YAML."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not valid YAML: {error}") from error


def read_file(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The mapping in ``path`` with its ``extends`` chain merged in (the child wins)."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(f"{path}: extends forms a cycle: {cycle}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        where = f"{chain[-1]}: extends" if chain else "config"
        raise ConfigError(f"{where}: cannot read {path}: {error.strerror or error}") from error
    data = parse_yaml(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of config keys, got {type(data).__name__}")
    data = dict(data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path}: extends: expected the path of a YAML file (relative to this one), got {parent!r}")
    base = read_file(path.parent / parent, (*chain, resolved))
    return _merge(base, data)


def _merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """``child`` over ``base``: mappings merge key by key, anything else in ``child`` replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged

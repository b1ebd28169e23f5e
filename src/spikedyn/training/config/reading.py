"""Reading config YAML: YAML 1.2 scalars, ``extends:`` chains, merging mappings key by key.

A config is small (the largest in ``configs/`` holds about 120 values, 5 levels deep, in 4 KB),
so YAML far beyond that is refused before it can exhaust memory, time or the stack: an "alias
bomb" whose few lines expand to billions of values, an alias inside its own anchor, lists
nested thousands deep, a huge file, an integer of thousands of digits (which Python refuses to
convert, and which no config field can hold). A key set twice in one mapping is refused too (YAML would
silently keep the last).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from spikedyn.training.config.types import ConfigError

MAX_BYTES = 1 << 20  # of a config file
MAX_VALUES = 10_000  # scalars, lists and mappings, counted with aliases expanded
MAX_DEPTH = 32  # levels of nested lists and mappings
MAX_INT_DIGITS = 100  # of an integer scalar; a config integer fits in 64 bits (19 digits)

_MERGE = "tag:yaml.org,2002:merge"  # the "<<" key, which may repeat keys it merges
_INT = "tag:yaml.org,2002:int"


class _Refused(Exception):
    """YAML that parses but cannot be a config; the message starts with the dotted key."""


def _dotted(path: list[str]) -> str:
    """``["model", "options", "[0]"]`` -> ``model.options[0]``; the empty path is the top level."""
    text = "".join(part if part.startswith("[") else f".{part}" for part in path).lstrip(".")
    return text or "the top level"


class _BoundedComposer(yaml.SafeLoader):
    """A SafeLoader that counts values as aliases would expand them and refuses what is past the limits.

    A node's expanded size is computed once, when it is complete, and an alias adds its anchor's
    size: counting costs one step per node written, however much aliases multiply them. An alias
    whose anchor is not complete yet sits inside it: a recursive value.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []  # the dotted key of the node being composed, part by part
        self._sizes: dict[int, int] = {}  # id(node) -> its expanded size, once the node is complete

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if parent is not None:
            self._path.append(index.value if isinstance(index, yaml.ScalarNode) else f"[{index}]" if isinstance(index, int) else "<key>")
        try:
            line = event.start_mark.line + 1
            if len(self._path) > MAX_DEPTH:
                raise _Refused(f"{_dotted(self._path)} (line {line}): nested more than {MAX_DEPTH} levels deep")
            node = super().compose_node(parent, index)
            if isinstance(event, yaml.AliasEvent):
                if id(node) not in self._sizes:
                    raise _Refused(f"{_dotted(self._path)} (line {line}): the alias *{event.anchor} is inside its own anchor, so the value would contain itself")
                return node
            size = self._sizes[id(node)] = self._size(node)
            if size > MAX_VALUES:
                raise _Refused(f"{_dotted(self._path)} (line {line}): more than {MAX_VALUES} values once its aliases are expanded; a config needs far fewer")
            if isinstance(node, yaml.MappingNode):
                self._check_unique_keys(node)
            if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
                self._check_int_length(node, line)
            return node
        finally:
            if parent is not None:
                self._path.pop()

    def _size(self, node: yaml.Node) -> int:
        """1 + the expanded sizes of the node's children, which are complete."""
        if isinstance(node, yaml.SequenceNode):
            return 1 + sum(self._sizes[id(item)] for item in node.value)
        if isinstance(node, yaml.MappingNode):
            return 1 + sum(self._sizes[id(key)] + self._sizes[id(value)] for key, value in node.value)
        return 1

    def _check_int_length(self, node: yaml.ScalarNode, line: int) -> None:
        """Refuse an integer too long to be a config value before ``int()`` sees it (Python stops at 4300 digits)."""
        digits = sum(char not in "+-_:" for char in node.value)
        if digits > MAX_INT_DIGITS:
            where = _dotted(self._path) if self._path else "the value"
            raise _Refused(f"{where} (line {line}): an integer of {digits} digits; a config integer has at most {MAX_INT_DIGITS} digits and must fit in 64 bits")

    def _check_unique_keys(self, node: yaml.MappingNode) -> None:
        lines: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
                line, first = key.start_mark.line + 1, lines.get((key.tag, key.value))
                if first is not None:
                    raise _Refused(f"{_dotted([*self._path, key.value])}: duplicate key, set on line {first} and again on line {line}; set it once")
                lines[(key.tag, key.value)] = line


class _Loader(_BoundedComposer):
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
    """YAML text (1.2 scalars) to Python values; a ConfigError naming ``where`` when it is not valid YAML or past the limits."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except _Refused as error:
        raise ConfigError(f"{where}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not valid YAML: {error}") from error


def read_text_limited(path: Path, what: str, context: str = "") -> str:
    """The UTF-8 text of ``path`` (``what`` it should be, as "a config"), reading at most MAX_BYTES of it: a device
    such as /dev/zero has no end. ``context`` prefixes each error (as "parent.yaml: extends: ")."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{context}cannot read {path}: {error.strerror or error}") from error
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{context}{path}: larger than {MAX_BYTES // 1024} KiB, far more than {what} holds; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{context}{path}: not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); save it as UTF-8") from error


def read_file(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The mapping in ``path`` with its ``extends`` chain merged in (the child wins)."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(f"{path}: extends forms a cycle: {cycle}")
    data = parse_yaml(read_text_limited(path, "a config", f"{chain[-1]}: extends: " if chain else ""), str(path))
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

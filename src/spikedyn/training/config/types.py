"""Config values against the schema's types: fitting YAML values to dataclass fields, and the error type."""

from __future__ import annotations

import dataclasses
import difflib
import math
import reprlib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

Problems = list[tuple[str, str]]  # (dotted key, what is wrong), gathered to report all at once


class ConfigError(ValueError):
    """An experiment config that cannot be used; the message names the file and the dotted key."""


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type hints of a schema dataclass."""
    return typing.get_type_hints(cls)


def field_names(cls: type) -> list[str]:
    """The field names of a schema dataclass, in order."""
    return [f.name for f in dataclasses.fields(cls)]


def _is_union(tp: object) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _describe(tp: object) -> str:
    """A type as a config author would write it: ``float | None``, ``list[float]``."""
    if tp is type(None):
        return "None"
    if tp is Any:
        return "any"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if _is_union(tp):
        return " | ".join(_describe(arg) for arg in typing.get_args(tp))
    origin = typing.get_origin(tp)
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_describe(arg) for arg in typing.get_args(tp))}]"
    return getattr(tp, "__name__", str(tp))


_NO = object()  # a value that does not fit a type

#: Config integers lie in [-INT_LIMIT, INT_LIMIT): an int64, which torch, numpy, Lightning and float checks can hold.
INT_LIMIT = 2**63


def integer_size(value: int) -> str:
    """"an integer of N digits", counted without ``str(value)``, which Python refuses past 4300 digits."""
    if value.bit_length() < 10_000:
        return f"an integer of {len(str(abs(value)))} digits"
    return f"an integer of about {math.floor(math.log10(abs(value))) + 1} digits"


class _ShortRepr(reprlib.Repr):
    """reprlib.Repr that describes an integer too long to print instead of failing on it."""

    def repr_int(self, x: int, level: int) -> str:
        return f"<{integer_size(x)}>" if x.bit_length() >= 10_000 else super().repr_int(x, level)


_SHORT = _ShortRepr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 3, 8, 8, 80, 80


def shown(value: object) -> str:
    """``repr(value)`` cut to a line, so that a huge value in a config does not flood its error message."""
    return _SHORT.repr(value)


def _outsized(value: object, dotted: str) -> tuple[str, int] | None:
    """The dotted key and value of the first integer in ``value`` outside [-INT_LIMIT, INT_LIMIT), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -INT_LIMIT <= value < INT_LIMIT else (dotted, value)
    if isinstance(value, (list, tuple)):
        items = [(f"{dotted}[{index}]", item) for index, item in enumerate(value)]
    elif isinstance(value, Mapping):
        items = [(f"{dotted}.{key}", item) for key, item in value.items()]
    else:
        return None
    return next((found for key, item in items if (found := _outsized(item, key)) is not None), None)


def cut(text: str, width: int = 80) -> str:
    """``text`` with its middle replaced by "..." when longer than ``width``."""
    return text if len(text) <= width else f"{text[: width // 2 - 2]}...{text[-(width // 2 - 1):]}"


def _plain(value: object) -> object:
    """A deep copy of ``value`` made of YAML's plain types, or _NO (tuples become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return _NO if any(item is _NO for item in items) else items
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            return _NO
        items = {key: _plain(item) for key, item in value.items()}
        return _NO if any(item is _NO for item in items.values()) else items
    return _NO


def _fit(value: object, tp: object) -> object:
    """``value`` converted to type ``tp`` (int -> float; bool is not a number), or _NO."""
    if tp is Any:
        return _plain(value)
    if tp is type(None):
        return None if value is None else _NO
    if _is_union(tp):
        for arg in typing.get_args(tp):
            fitted = _fit(value, arg)
            if fitted is not _NO:
                return fitted
        return _NO
    origin = typing.get_origin(tp)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            return _NO
        (item_type,) = typing.get_args(tp)
        items = [_fit(item, item_type) for item in value]
        return _NO if any(item is _NO for item in items) else items
    if origin is dict:
        key_type, item_type = typing.get_args(tp)
        if not isinstance(value, Mapping) or not all(_fit(key, key_type) is not _NO for key in value):
            return _NO
        items = {key: _fit(item, item_type) for key, item in value.items()}
        return _NO if any(item is _NO for item in items.values()) else items
    if tp is float:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _NO
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _NO
    if tp in (bool, str):
        return value if isinstance(value, tp) else _NO
    raise TypeError(f"the config schema uses a type the loader does not know: {tp!r}")


def nearest(key: str, valid: Sequence[str]) -> str:
    """" (did you mean ...?)" for the closest valid key, or ""."""
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    return f" (did you mean {near[0]!r}?)" if near else ""


def unknown_key(prefix: str, key: object, valid: Sequence[str]) -> str:
    """The message for an unknown key: its dotted name, the nearest valid key and all valid ones."""
    section = prefix.rstrip(".") or "the top level"
    dotted = f"{prefix}{key}"
    full = [f"{prefix}{name}" for name in valid]
    return f"unknown key {dotted!r}{nearest(dotted, full)}; valid keys of {section}: {', '.join(valid)}"


def build(cls: type, data: object, prefix: str, problems: Problems) -> object:
    """The dataclass ``cls`` from the mapping ``data``; missing keys take their defaults."""
    section = prefix.rstrip(".")
    if not isinstance(data, Mapping):
        problems.append((section or "<top level>", f"expected a mapping, got {shown(data)} ({type(data).__name__})"))
        return None
    hints, names = field_types(cls), field_names(cls)
    kwargs: dict[str, object] = {}
    for key, value in data.items():
        if key not in names:
            problems.append((f"{prefix}{key}", unknown_key(prefix, key, names)))
            continue
        tp, dotted = hints[key], f"{prefix}{key}"
        if dataclasses.is_dataclass(tp):
            built = build(tp, value, f"{dotted}.", problems)
            if built is not None:
                kwargs[key] = built
            continue
        outsized = _outsized(value, dotted)
        if outsized is not None:
            where, number = outsized
            problems.append((where, f"{integer_size(number)} is past what a config integer can be (-2**63 to 2**63 - 1)"))
            continue
        fitted = _fit(value, tp)
        if fitted is _NO:
            annotation = next(f.type for f in dataclasses.fields(cls) if f.name == key)
            expected = annotation if isinstance(annotation, str) else _describe(tp)
            if typing.get_args(tp)[-1:] == (Any,):
                expected += " with plain YAML values (numbers, strings, booleans, null, lists, mappings)"
            problems.append((dotted, f"expected {expected}, got {shown(value)} ({type(value).__name__})"))
            continue
        kwargs[key] = fitted
    return cls(**kwargs)

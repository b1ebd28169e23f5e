"""Markdown helpers of the docs hook (docs/hooks/generate.py), and the modules it reads."""

from __future__ import annotations

import importlib
import inspect
import os
import re


def schema():
    """The config schema module, whose dataclasses and comments the configuration page is generated from."""
    return importlib.import_module("spikedyn.training.config.schema")



# Markdown helpers


def cell(text: object) -> str:
    """``text`` as one table cell: on one line, with its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: object) -> str:
    """``text`` as an inline code span that survives a table cell (pipes as a Unicode look-alike would lie: escape them)."""
    text = str(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}".replace("|", "\\|")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def yaml_value(value: object) -> str:
    """A default as a YAML config writes it: null, true, [-0.2, 0.2], {}, 'text'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {yaml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, str):
        return value if value and re.fullmatch(r"[A-Za-z_][\w.+-]*", value) and value not in ("null", "true", "false") else repr(value)
    return os.fspath(value) if isinstance(value, os.PathLike) else repr(value)


def docstring(obj: object) -> str:
    """The cleaned docstring of ``obj``, or an empty string."""
    return inspect.getdoc(obj) or ""

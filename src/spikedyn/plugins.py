"""A user's own builders by name: import paths ``"package.module:callable"`` and installed entry points.

A config may name a model or a dataset that spikedyn does not ship in two ways:

- an import path, ``"mypackage.models:MyNet"`` (the module, a colon, then the attribute,
  which may be dotted: ``"mypackage.zoo:Nets.small"``). The module is imported from
  ``sys.path``; where it is not found there, the current folder is tried too, as
  ``python -m`` would, so a ``mymodels.py`` next to the config works.
- a name that an installed package registers under the entry-point group
  ``spikedyn.models`` or ``spikedyn.datasets`` (in its pyproject.toml:
  ``[project.entry-points."spikedyn.models"] mynet = "mypackage.models:MyNet"``).

Every failure is one :class:`PluginError` line naming what was looked for and where.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Callable
from typing import Any

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class PluginError(ValueError):
    """A model or dataset named by import path or entry point that cannot be loaded; the message is one line."""


def is_import_path(name: object) -> bool:
    """Whether ``name`` is written as an import path ``"package.module:attribute"``."""
    return isinstance(name, str) and ":" in name


def _import_module(module_name: str, kind: str, name: str) -> Any:
    """The module ``module_name``, from sys.path or else from the current folder."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or module_name
        if not (module_name == missing or module_name.startswith(missing + ".")):
            raise PluginError(f"{kind} {name!r}: importing module {module_name!r} failed: {error}") from None
        here = os.getcwd()
        if here in sys.path or "" in sys.path:
            raise PluginError(f"{kind} {name!r}: no module named {missing!r} (looked in sys.path, which holds the current folder)") from None
        sys.path.append(here)
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError:
            sys.path.remove(here)
            raise PluginError(f"{kind} {name!r}: no module named {missing!r} (looked in sys.path and in the current folder {here})") from None
    except Exception as error:  # noqa: BLE001 - whatever the user's module raises on import is reported in one line
        raise PluginError(f"{kind} {name!r}: importing module {module_name!r} raised {type(error).__name__}: {error}") from None


def load_import_path(name: str, kind: str) -> Callable[..., Any]:
    """The callable that ``"package.module:attribute"`` names; ``kind`` ("model", "dataset") names it in errors."""
    module_name, _, attribute = name.partition(":")
    if not _DOTTED.match(module_name) or not _DOTTED.match(attribute):
        raise PluginError(f"{kind} {name!r}: an import path is 'package.module:callable' (dotted Python names on both sides of one colon)")
    target: Any = _import_module(module_name, kind, name)
    walked = module_name
    for part in attribute.split("."):
        if not hasattr(target, part):
            where = getattr(target, "__file__", None) if walked == module_name else None
            found = f" ({where})" if where else ""
            raise PluginError(f"{kind} {name!r}: {walked}{found} has no attribute {part!r}")
        target = getattr(target, part)
        walked += (":" if walked == module_name else ".") + part
    if not callable(target):
        raise PluginError(f"{kind} {name!r}: {walked} is a {type(target).__name__}, not a callable that builds a {kind}")
    return target


def entry_point_names(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """{name: entry point} of the installed packages' entry points in ``group``."""
    return {point.name: point for point in importlib.metadata.entry_points(group=group)}


def load_entry_point(point: importlib.metadata.EntryPoint, kind: str) -> Callable[..., Any]:
    """The callable an entry point names; errors name the entry point, its group and its target."""
    where = f"{kind} {point.name!r} (entry point {point.value!r} in group {point.group!r})"
    try:
        target = point.load()
    except Exception as error:  # noqa: BLE001 - an installed package's import error, in one line
        raise PluginError(f"{where}: loading it raised {type(error).__name__}: {error}") from None
    if not callable(target):
        raise PluginError(f"{where}: it names a {type(target).__name__}, not a callable that builds a {kind}")
    return target

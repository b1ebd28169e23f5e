"""Builders by name, shared by models and datasets: unknown names and options list the valid ones.

Besides the names registered here, a registry finds a user's own builders: an import path
``"package.module:callable"`` or a name an installed package registers under the registry's
entry-point group (see :mod:`spikedyn.plugins`).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from spikedyn.plugins import PluginError, entry_point_names, is_import_path, load_entry_point, load_import_path

Built = TypeVar("Built")


class Registry(Generic[Built]):
    """A name -> builder table for one ``kind`` of thing ("model", "dataset")."""

    def __init__(self, kind: str, positional: tuple[str, ...] = (), entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.positional = positional  # arguments every builder takes that are not options
        self.entry_point_group = entry_point_group
        self._builders: dict[str, Callable[..., Built]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Built]], Callable[..., Built]]:
        """Decorator: make a builder available under ``name``."""

        def add(builder: Callable[..., Built]) -> Callable[..., Built]:
            if name in self._builders:
                raise ValueError(f"a {self.kind} named {name!r} is already registered")
            self._builders[name] = builder
            return builder

        return add

    def register_variant(self, name: str, build: Callable[..., Built], doc: str, **defaults: object) -> Callable[..., Built]:
        """Register ``name`` as ``build(*positional, **defaults)``; the keys of ``defaults`` are its options."""

        def builder(*args: object, **options: object) -> Built:
            return build(*args, **{**defaults, **options})

        fixed = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in self.positional]
        keyword = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()]
        builder.__signature__ = inspect.Signature(fixed + keyword)
        builder.__name__ = builder.__qualname__ = name
        builder.__doc__ = doc
        return self.register(name)(builder)

    def _entry_points(self) -> dict:
        return entry_point_names(self.entry_point_group) if self.entry_point_group else {}

    def names(self) -> list[str]:
        """The registered names and those of installed entry points, sorted."""
        return sorted(self._builders.keys() | self._entry_points().keys())

    def __contains__(self, name: object) -> bool:
        return name in self._builders or name in self._entry_points()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def is_builtin(self, name: str) -> bool:
        """Whether ``name`` is one of spikedyn's own builders (not an import path or an entry point)."""
        return name in self._builders

    def builder(self, name: str) -> Callable[..., Built]:
        """The builder of ``name`` (registered, an import path, or an entry point), or a ValueError listing the known names."""
        if name in self._builders:
            return self._builders[name]
        if is_import_path(name):
            return load_import_path(name, self.kind)
        points = self._entry_points()
        if name in points:
            return load_entry_point(points[name], self.kind)
        near = difflib.get_close_matches(str(name), self.names(), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(
            f"unknown {self.kind} {name!r}{hint}; known {self.kind}s: {', '.join(self.names())}, "
            f"or your own as an import path 'package.module:callable'"
        )

    def parameters(self, name: str) -> list[inspect.Parameter]:
        """The parameters of the builder of ``name`` (a class: of its constructor), bar the positional ones."""
        builder = self.builder(name)
        try:
            signature = inspect.signature(builder)
        except (TypeError, ValueError) as error:
            raise PluginError(f"{self.kind} {name!r}: its parameters cannot be read ({error})") from None
        return [p for p in signature.parameters.values() if p.name not in self.positional]

    def takes_any_option(self, name: str) -> bool:
        """Whether the builder of ``name`` takes ``**options``, so that any option name is accepted."""
        return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in self.parameters(name))

    def options(self, name: str) -> list[str]:
        """The keyword options the builder of ``name`` names (not its ``*args`` or ``**options``)."""
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return [p.name for p in self.parameters(name) if p.kind not in variadic]

    def defaults(self, name: str) -> dict[str, object]:
        """{option: default} of the options of ``name`` that have a default: what a build leaves out takes."""
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return {p.name: p.default for p in self.parameters(name) if p.kind not in variadic and p.default is not inspect.Parameter.empty}

    def build(self, name: str, *args: object, **options: object) -> Built:
        """Call the builder of ``name``; an unknown option names the nearest valid one."""
        valid = self.options(name)
        for option in options:
            if option not in valid and not self.takes_any_option(name):
                near = difflib.get_close_matches(option, valid, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise TypeError(f"{self.kind} {name!r} has no option {option!r}{hint}; its options: {', '.join(valid)}")
        return self.builder(name)(*args, **options)

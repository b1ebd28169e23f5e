"""Builders by name, shared by models and datasets: unknown names and options list the valid ones."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Built = TypeVar("Built")


class Registry(Generic[Built]):
    """A name -> builder table for one ``kind`` of thing ("model", "dataset")."""

    def __init__(self, kind: str, positional: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.positional = positional  # arguments every builder takes that are not options
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

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._builders)

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def builder(self, name: str) -> Callable[..., Built]:
        """The builder of ``name``, or a ValueError listing the known names."""
        if name not in self._builders:
            raise ValueError(f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(self.names())}")
        return self._builders[name]

    def options(self, name: str) -> list[str]:
        """The keyword options the builder of ``name`` takes."""
        return [p for p in inspect.signature(self.builder(name)).parameters if p not in self.positional]

    def defaults(self, name: str) -> dict[str, object]:
        """{option: default} of the options of ``name`` that have a default: what a build leaves out takes."""
        parameters = inspect.signature(self.builder(name)).parameters
        return {p: parameters[p].default for p in self.options(name) if parameters[p].default is not inspect.Parameter.empty}

    def build(self, name: str, *args: object, **options: object) -> Built:
        """Call the builder of ``name``; an unknown option names the nearest valid one."""
        valid = self.options(name)
        for option in options:
            if option not in valid:
                near = difflib.get_close_matches(option, valid, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise TypeError(f"{self.kind} {name!r} has no option {option!r}{hint}; its options: {', '.join(valid)}")
        return self.builder(name)(*args, **options)

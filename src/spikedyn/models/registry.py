"""Networks built by name: ``build_model("plifnet_mnist", neuron=..., pooling="avg")``."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

from torch import nn

MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: make a builder function available to :func:`build_model` under ``name``."""

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in MODELS:
            raise ValueError(f"a model named {name!r} is already registered")
        MODELS[name] = builder
        return builder

    return add


def register_variant(name: str, build: Callable[..., nn.Module], doc: str, **defaults: object) -> Callable[..., nn.Module]:
    """Register ``name`` as ``build(name, **defaults)``; the keys of ``defaults`` are its options."""

    def builder(**options: object) -> nn.Module:
        return build(name, **{**defaults, **options})

    keyword = inspect.Parameter.KEYWORD_ONLY
    builder.__signature__ = inspect.Signature([inspect.Parameter(k, keyword, default=v) for k, v in defaults.items()])
    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = doc
    return register_model(name)(builder)


def list_models() -> list[str]:
    """The names :func:`build_model` knows, sorted."""
    return sorted(MODELS)


def model_options(name: str) -> list[str]:
    """The keyword options the builder of ``name`` takes."""
    return list(inspect.signature(_builder(name)).parameters)


def _builder(name: str) -> Callable[..., nn.Module]:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    return MODELS[name]


def build_model(name: str, **options) -> nn.Module:
    """Build the registered network ``name``; unknown names and options list what is valid."""
    builder = _builder(name)
    valid = model_options(name)
    for option in options:
        if option not in valid:
            near = difflib.get_close_matches(option, valid, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise TypeError(f"model {name!r} has no option {option!r}{hint}; its options: {', '.join(valid)}")
    return builder(**options)

"""Networks built by name: ``build_model("plifnet_mnist", neuron=..., pooling="avg")``."""

from __future__ import annotations

from torch import nn

from spikedyn.registry import Registry

MODELS: Registry[nn.Module] = Registry("model", entry_point_group="spikedyn.models")
register_model = MODELS.register
register_variant = MODELS.register_variant


def list_models() -> list[str]:
    """The names :func:`build_model` knows, sorted."""
    return MODELS.names()


def model_options(name: str) -> list[str]:
    """The keyword options the builder of ``name`` takes."""
    return MODELS.options(name)


def build_model(name: str, **options: object) -> nn.Module:
    """Build the registered network ``name``; unknown names and options list what is valid."""
    return MODELS.build(name, **options)

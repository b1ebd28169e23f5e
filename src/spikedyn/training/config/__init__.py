"""Experiment configs: the schema, YAML reading, checks, packaged configs, resolution, load and save.

A config file is a YAML mapping shaped like :class:`~spikedyn.training.config.schema.ExperimentConfig`;
this package exports the API that loads, checks and saves one (:mod:`.load`). Its modules,
lowest first (each imports only those above it in this list, plus data/, models/, losses,
neurons/ and :mod:`spikedyn.training.protocols`; never ``training.runs``, ``training.loggers``
or Lightning, so a config can be checked without a trainer)::

    types.py     ConfigError, the problem list, building dataclasses from mappings
    schema.py    the dataclasses: every key, its type and default
    reading.py   YAML read within limits (size, depth, aliases) and ``extends:``
    names.py     the packaged configs, found by name (``--config digits``)
    resolve.py   a config with its dataset's default options written out
    checks.py    the checks of values, names, registries; the logger names
    load.py      load (with overrides), validate, compare, convert and save
"""

from spikedyn.training.config.checks import CHOICES, SURROGATES
from spikedyn.training.config.load import (
    config_differences,
    config_from_dict,
    config_source,
    config_to_dict,
    config_with_values,
    config_yaml,
    load_config,
    save_config,
)
from spikedyn.training.config.types import ConfigError

__all__ = [
    "CHOICES",
    "SURROGATES",
    "ConfigError",
    "config_differences",
    "config_from_dict",
    "config_source",
    "config_to_dict",
    "config_with_values",
    "config_yaml",
    "load_config",
    "save_config",
]

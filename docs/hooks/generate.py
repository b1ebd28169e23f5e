"""MkDocs hook: the pages that list what the code has, generated from the code at build time.

A page asks for a generated section with a placeholder line ``<!-- generated: NAME -->``;
:func:`on_page_markdown` replaces it with the Markdown that ``GENERATORS[NAME]`` returns. An
unknown NAME fails the build. The sections are read from the same objects the program uses:

- ``config-keys``, ``config-sources``, ``packaged-configs``: the dataclasses of
  :mod:`spikedyn.training.config.schema` (types, defaults, and the comments beside each field, read
  from the source), its ``SOURCE_ASPECTS``, and the YAML files ``spikedyn train --config NAME`` finds;
- ``datasets``: :func:`spikedyn.data.list_datasets`, each builder's docstring, options and
  defaults, and the message the dataset gives when its files are missing;
- ``models``, ``losses``: the model registry and ``spikedyn.losses.LOSSES``;
- ``figures``: ``spikedyn.analysis.figure_registry.FIGURES``;
- ``studies``: ``spikedyn.studies.catalog.STUDIES``, the studies of ``spikedyn study``;
- ``cli-commands``: the parsers of :func:`spikedyn.cli.build_parser`, as ``--help`` prints them.

The sections are written by the modules beside this file: ``sections_config`` (the config),
``sections_catalog`` (datasets, models, losses, studies, figures), ``sections_cli`` (commands),
on the helpers of ``sections_common``. tests/docs/test_site.py imports this file to check that
every key, dataset, figure and command is listed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # MkDocs loads a hook by its path: its sibling modules are found here

from sections_catalog import generate_datasets, generate_figures, generate_losses, generate_models, generate_studies  # noqa: E402
from sections_cli import generate_cli_commands, subcommands  # noqa: E402,F401  (subcommands: tests/docs/test_site.py)
from sections_common import cell, schema  # noqa: E402,F401
from sections_config import (  # noqa: E402,F401
    KEY_NOTES,
    config_fields,
    field_comments,
    generate_config_keys,
    generate_config_sources,
    generate_packaged_configs,
)

PLACEHOLDER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


GENERATORS: dict[str, Callable[[], str]] = {
    "config-keys": generate_config_keys,
    "config-sources": generate_config_sources,
    "packaged-configs": generate_packaged_configs,
    "datasets": generate_datasets,
    "models": generate_models,
    "losses": generate_losses,
    "figures": generate_figures,
    "studies": generate_studies,
    "cli-commands": generate_cli_commands,
}

_cache: dict[str, str] = {}


def generated(name: str) -> str:
    """The Markdown of generated section ``name`` (computed once per process)."""
    if name not in GENERATORS:
        raise KeyError(f"unknown generated section {name!r}; known: {', '.join(GENERATORS)}")
    if name not in _cache:
        _cache[name] = GENERATORS[name]()
    return _cache[name]


def fill(markdown: str, where: str = "") -> str:
    """``markdown`` with every ``<!-- generated: NAME -->`` line replaced by its section."""

    def replace(match: re.Match[str]) -> str:
        try:
            return generated(match.group(1))
        except KeyError as error:
            raise ValueError(f"{where}: {error.args[0]}") from None

    return PLACEHOLDER.sub(replace, markdown)


def on_pre_build(config) -> None:  # noqa: ARG001 - MkDocs hook signature
    _cache.clear()  # each build of `mkdocs serve` generates again (from the code as it was first imported)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs hook signature
    return fill(markdown, page.file.src_path)

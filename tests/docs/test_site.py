"""The documentation site: it builds with --strict, and its generated pages list everything the code has.

The build needs the ``docs`` extra (scripts/setup.sh installs it); without it the build test is
skipped, except in CI (``CI`` set, as .ci/run sets it), where a missing tool is a failure.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "docs" / "hooks" / "generate.py"


def load_hook():
    spec = importlib.util.spec_from_file_location("docs_hook_generate", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = load_hook()


def headings(markdown: str) -> set[str]:
    """The `code` of every ``### `code` `` heading."""
    return set(re.findall(r"^###+ `([^`]+)`", markdown, re.MULTILINE))


def test_every_config_key_is_listed_with_its_default_and_what_it_is():
    keys = generate.config_fields()
    text = generate.generated("config-keys")
    assert len(keys) > 50
    for key, _, field, comment in keys:
        assert f"`{key}`" in text, key
        assert comment or key in generate.KEY_NOTES, f"{key}: no comment in the schema's source and no note in docs/hooks/generate.py"
    assert "| `model.neuron.tau` | `float` | `2.0` |" in text  # a row as the table writes it


def test_a_comment_in_the_schema_source_is_what_the_page_says():
    schema = generate.schema()
    comments = generate.field_comments(schema.NeuronConfig)
    assert "synaptic current" in comments["synaptic_tau"] or "tau_s" in comments["synaptic_tau"]
    row = next(line for line in generate.generated("config-keys").splitlines() if line.startswith("| `model.neuron.synaptic_tau`"))
    assert generate.cell(comments["synaptic_tau"]) in row


def test_every_dataset_model_loss_and_figure_is_listed():
    from spikedyn.data import list_datasets
    from spikedyn.losses import LOSSES
    from spikedyn.models import list_models

    assert set(list_datasets()) <= headings(generate.generated("datasets"))
    models, losses = generate.generated("models"), generate.generated("losses")
    assert all(f"`{name}`" in models for name in list_models())
    assert all(f"`{name}`" in losses for name in LOSSES)
    import spikedyn.analysis.figures  # noqa: F401
    from spikedyn.analysis.figure_registry import FIGURES

    assert set(FIGURES) <= headings(generate.generated("figures"))


def test_every_command_is_listed_with_its_help():
    from spikedyn.cli import build_parser

    commands, listed = generate.subcommands(build_parser())
    text = generate.generated("cli-commands")
    assert {f"spikedyn {name}" for name in listed} <= headings(text)
    assert "usage: spikedyn train" in text
    assert all(f"`spikedyn {name}`" in text for name in commands)  # the hidden ones are named too


def test_an_unknown_placeholder_fails_the_build():
    with pytest.raises(ValueError, match="unknown generated section 'no-such'"):
        generate.fill("text\n<!-- generated: no-such -->\n", "page.md")


def test_every_page_is_in_the_navigation():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", "#"))

    def pages(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from pages(value)
        elif isinstance(node, list):
            for item in node:
                yield from pages(item)

    nav = set(pages(config["nav"]))
    docs = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md") if "hooks" not in path.parts}
    assert docs == nav, {"not in nav": docs - nav, "missing": nav - docs}


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None:
        if os.environ.get("CI"):
            pytest.fail("mkdocs and mkdocstrings[python] are not installed: scripts/setup.sh installs the docs extra")
        pytest.skip("the docs extra is not installed (pip install -e '.[docs]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(tmp_path / "site")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    site = tmp_path / "site"
    for page in ("index.html", "how-to/configuration/index.html", "how-to/cli/index.html", "reference/neurons/index.html"):
        assert (site / page).is_file(), page
    assert "<!-- generated:" not in (site / "how-to/configuration/index.html").read_text(encoding="utf-8")
    assert "spikedyn.neurons.PLIF" in (site / "reference/neurons/index.html").read_text(encoding="utf-8")  # mkdocstrings rendered

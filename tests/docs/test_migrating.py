"""docs/migrating.md: every Python block runs, each in a fresh namespace, and its assertions about the peers hold."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
PEERS = {"spikingjelly": "spikingjelly", "snntorch": "snntorch", "norse": "norse"}  # the import that a block needs -> the package to skip without


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each ```python block of a Markdown text."""
    return [(text[: match.start()].count("\n") + 2, match.group(1)) for match in re.finditer(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)]


BLOCKS = python_blocks(PAGE.read_text(encoding="utf-8"))
pytestmark = pytest.mark.filterwarnings("ignore:nirtorch.*is being deprecated:DeprecationWarning")  # norse.to_nir


def test_the_page_has_examples_of_every_port():
    assert len(BLOCKS) >= 11
    for peer in PEERS:
        assert any(re.search(rf"^(import|from) {peer}\b", code, re.MULTILINE) for _, code in BLOCKS), f"no {peer} example"


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"line{line}" for line, _ in BLOCKS])
def test_each_example_runs(line, code):
    for module, package in PEERS.items():
        if re.search(rf"^(import|from) {module}\b", code, re.MULTILINE):
            pytest.importorskip(package)
    exec(compile(code, f"{PAGE.name}:{line}", "exec"), {"__name__": f"migrating_line{line}"})

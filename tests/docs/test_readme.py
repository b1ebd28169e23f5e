"""README's "Use spikedyn in your own code": every Python block runs as it stands, in a fresh folder."""

import re
from pathlib import Path

import pytest

from tests.docs.test_migrating import python_blocks

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Use spikedyn in your own code"


def section(text: str, heading: str) -> str:
    """The text of the ``## heading`` section of a Markdown page, up to the next ``## `` heading."""
    start = text.index(heading + "\n")
    following = re.search(r"^## ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


BLOCKS = python_blocks(section(README.read_text(encoding="utf-8"), HEADING))


def test_the_section_shows_a_loop_of_ones_own_and_the_workflow():
    assert len(BLOCKS) >= 2
    loop = BLOCKS[0][1]
    assert "for frames, labels in loader" in loop and "optimizer.step()" in loop
    assert len(loop.strip().splitlines()) <= 40
    names = re.findall(r"(?:spikedyn\.|from spikedyn[.\w]* import )(\w+)", "".join(code for _, code in BLOCKS))
    assert {"train", "load_run", "time_major_collate", "PLIF"} <= set(names)


@pytest.mark.slow
@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"block{index}" for index in range(len(BLOCKS))])
def test_each_block_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs/ is written here, not in the checkout
    exec(compile(code, f"README.md ({HEADING}), block at section line {line}", "exec"), {"__name__": "readme_block"})

"""The site's pages: every Python block of a page runs, in order, in one namespace per page and a fresh folder.

The pages are the tutorials (docs/tutorials/*.md, each of which must have code that runs) and
every other page of docs/ with a Python block (Getting started, the how-to and explanation
pages), except docs/migrating.md, whose blocks tests/docs/test_migrating.py runs one by one.

Conventions of the pages (stated on each tutorial that uses them):

- a block fenced as plain ```python runs;
- a block fenced as ```python title="needs ..." (a GPU, SLURM, your data) is shown and not run;
  no other title is allowed, so a block cannot stop running by accident;
- a block that imports a peer library (norse, spikingjelly, snntorch) runs only where that peer
  is installed; such a block and the blocks after it that build on it are written to stand alone,
  and the page is reported as skipped after its other blocks ran.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIALS = DOCS / "tutorials"
OWN_TEST = {DOCS / "migrating.md"}  # tests/docs/test_migrating.py
FENCE_START = re.compile(r"^```python", re.MULTILINE)
OTHER_PAGES = sorted(page for page in DOCS.rglob("*.md") if page.parent != TUTORIALS and page not in OWN_TEST
                     and FENCE_START.search(page.read_text(encoding="utf-8")))  # fmt: skip
PAGES = sorted(TUTORIALS.glob("*.md")) + OTHER_PAGES
IDS = [str(page.relative_to(DOCS).with_suffix("")) for page in PAGES]
FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r'^\s+title="needs [^"]+"\s*$')
PEERS = ("norse", "spikingjelly", "snntorch")

pytestmark = pytest.mark.filterwarnings("ignore:nirtorch.*is being deprecated:DeprecationWarning")  # norse.to_nir


def blocks(page: Path) -> list[tuple[int, str, str]]:
    """(line, info string, code) of each ```python block of a page."""
    text = page.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 2, m.group("info"), m.group("code")) for m in FENCE.finditer(text)]


def missing_peers(code: str) -> list[str]:
    """The peer libraries a block imports that are not installed."""
    imported = [peer for peer in PEERS if re.search(rf"^\s*(import|from) {peer}\b", code, re.MULTILINE)]
    return [peer for peer in imported if importlib.util.find_spec(peer) is None]


def test_there_are_tutorials_and_each_has_code():
    tutorials = [page for page in PAGES if page.parent == TUTORIALS]
    assert len(tutorials) >= 7, [page.name for page in tutorials]
    assert {"index", "how-to/networks", "how-to/add-a-neuron"} <= set(IDS)  # pages whose examples must run too
    for page in tutorials:
        runnable = [code for _, info, code in blocks(page) if not info.strip()]
        assert runnable, f"{page.name} has no Python block that runs"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_blocks_that_are_not_run_say_what_they_need(page):
    for line, info, _ in blocks(page):
        assert not info.strip() or NOT_RUN.match(info), f"{page.name}:{line}: ```python{info}: only title=\"needs ...\" keeps a block from running"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_each_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # run folders, files the page writes: in a fresh folder, not the checkout
    monkeypatch.syspath_prepend(str(tmp_path))  # modules the page writes import as they would from the user's folder
    before = set(sys.modules)
    namespace = {"__name__": f"page_{page.stem.replace('-', '_')}"}
    skipped = []
    try:
        for line, info, code in blocks(page):
            if info.strip():
                continue
            missing = missing_peers(code)
            if missing:
                skipped.append(f"line {line} ({', '.join(missing)} not installed)")
                continue
            exec(compile(code, f"{page.relative_to(DOCS.parent)}:{line}", "exec"), namespace)
    finally:
        for name in set(sys.modules) - before:  # the page's own modules, so the next page starts clean
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(str(tmp_path)):
                del sys.modules[name]
    if skipped:
        pytest.skip(f"{page.name}: the other blocks ran; skipped the blocks at {'; '.join(skipped)}")

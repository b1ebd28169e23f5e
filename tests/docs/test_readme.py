"""README.md, the front page: the two commands first, a short example that runs and learns, figures with their commands, links that resolve."""

import re
from pathlib import Path

import pytest
import torch

import spikedyn
from spikedyn.data import build_dataset
from tests.docs.test_migrating import python_blocks

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
HEADING = "## In your own code"
COMMANDS = (
    "scripts/setup.sh && .venv/bin/spikedyn train         # main job: a PLIF net on offline digits, about a minute",
    "scripts/setup.sh && .venv/bin/python -m pytest       # the tests",
)


def section(text: str, heading: str) -> str:
    """The text of the ``## heading`` section of a Markdown page, up to the next ``## `` heading."""
    start = text.index(heading + "\n")
    following = re.search(r"^## ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


BLOCKS = python_blocks(section(TEXT, HEADING))


def test_a_front_page_that_starts_with_the_two_commands():
    lines = TEXT.splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; the manual is docs/"
    assert lines[0] == "# spikedyn"
    fence = lines.index("```bash")
    assert fence < 5 and tuple(lines[fence + 1 : fence + 3]) == COMMANDS


def test_the_example_is_short_and_is_a_loop_of_ones_own():
    assert len(BLOCKS) == 1
    code = BLOCKS[0][1]
    assert len(code.strip().splitlines()) <= 20
    assert "for frames, labels in loader" in code and "optimizer.step()" in code
    names = set(re.findall(r"(?:spikedyn\.|from spikedyn[.\w]* import )(\w+)", code))
    assert {"time_major_collate", "PLIF", "build_dataset", "get_loss"} <= names


def test_every_local_link_resolves():
    """Docs pages and committed study reports alike: a link to a file that is not in the tree is a broken promise."""
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", TEXT)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert any(link.startswith("docs/") for link in local)
    assert any(link.startswith("studies/results/") for link in local)
    for link in set(local):
        assert (ROOT / link).is_file(), f"README.md links to {link}, which does not exist"


def test_the_studies_summary_is_one_delimited_block():
    assert TEXT.count("<!-- studies -->") == 1 and TEXT.count("<!-- /studies -->") == 1
    block = TEXT[TEXT.index("<!-- studies -->") : TEXT.index("<!-- /studies -->")]
    assert re.search(r"studies/results/\w+/study\.md", block)


def test_the_figures_keep_their_commands():
    figures = section(TEXT, "## Headline figures")
    for command in ("spikedyn train", "benchmarks/neuron.py", "benchmarks/models.py", "benchmarks/data.py", "benchmarks/gpu.sh"):
        assert command in figures, command


@pytest.mark.slow
def test_the_example_runs_and_learns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    namespace = {"__name__": "readme_example"}
    exec(compile(BLOCKS[0][1], f"README.md ({HEADING})", "exec"), namespace)
    network, loss_fn = namespace["network"], namespace["loss_fn"]
    assert not torch.allclose(network[1].tau, torch.full((128,), 2.0)), "the per-neuron tau did not move"
    test = build_dataset("digits", "test", time_steps=4)
    frames, labels = spikedyn.time_major_collate([test[i] for i in range(len(test))])
    network.eval()
    with torch.no_grad():
        accuracy = (loss_fn.predict(network(frames)) == labels).float().mean().item()
    assert accuracy > 0.6, f"one epoch of the README's loop reached {accuracy:.1%} test accuracy"

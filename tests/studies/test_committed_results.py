"""Every committed study result rebuilds byte for byte from its committed records: the numbers in study.md are the code's."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from spikedyn.cli import main

pytestmark = pytest.mark.slow

RESULTS = Path(__file__).resolve().parents[2] / "studies" / "results"
WITH_RECORDS = sorted(path.parent for path in RESULTS.glob("*/records"))


def _study_and_budget(folder: Path) -> tuple[str, str]:
    """The study's name and budget from the command that produced the folder (inputs/command.txt)."""
    words = shlex.split((folder / "inputs" / "command.txt").read_text())
    return words[words.index("study") + 1], (folder / "inputs" / "budget.txt").read_text().strip()


def _pixels(path: Path):
    import matplotlib.image

    return matplotlib.image.imread(path)


@pytest.mark.parametrize("folder", WITH_RECORDS, ids=lambda path: path.name)
def test_a_committed_study_rebuilds_from_its_records(folder, tmp_path):
    """--report-only on a copy of inputs/ and records/ alone writes the committed study.md, tables and figures again."""
    name, budget = _study_and_budget(folder)
    copy = tmp_path / folder.name
    for kept in ("inputs", "records"):
        shutil.copytree(folder / kept, copy / kept)
    assert main(["study", name, "--budget", budget, "--out", str(copy), "--report-only"]) == 0
    for written in ("study.md", "table.md", "table.csv", *(str(p.relative_to(folder)) for p in (folder / "figures").glob("*.svg"))):
        assert (copy / written).read_bytes() == (folder / written).read_bytes(), f"{folder.name}/{written} differs when rebuilt"
    for image in (folder / "figures").glob("*.png"):
        assert (_pixels(copy / image.relative_to(folder)) == _pixels(image)).all(), f"{folder.name}/{image.name} differs in its pixels"


def test_the_real_data_studies_are_committed():
    """Issue 20's evidence: the Fashion-MNIST studies are in the repository with their records."""
    assert "plif_vs_lif_real" in {folder.name for folder in WITH_RECORDS}

"""A study runs end to end on its smoke budget: sweep, report with every claim and a verdict, table, figures; run again, it trains nothing."""

import csv
import shutil

import pytest

from spikedyn.cli import main
from spikedyn.studies.catalog import get_study
from spikedyn.studies.claims import FAILS, HOLDS, INCONCLUSIVE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pooling_smoke(tmp_path_factory):
    """The pooling study's smoke budget, run once: (its folder, the report's bytes and pixels as first written, a copy of inputs/ and records/)."""
    root = tmp_path_factory.mktemp("study")
    out = root / "pooling"
    assert main(["study", "pooling", "--budget", "smoke", "--workers", "2", "--out", str(out)]) == 0
    written = [out / "study.md", out / "table.md", out / "table.csv", *(out / "figures").glob("*.svg")]
    report = {path.relative_to(out): path.read_bytes() for path in written}
    pixels = {path.relative_to(out): _pixels(path) for path in (out / "figures").glob("*.png")}
    committed = root / "checkout" / "pooling"  # what a repository holds: no run folders, no checkpoints
    for kept in ("inputs", "records"):
        shutil.copytree(out / kept, committed / kept)
    return out, report, pixels, committed


def test_the_pooling_study_runs_reports_and_resumes(pooling_smoke, tmp_path, capsys):
    out = pooling_smoke[0]
    report = (out / "study.md").read_text()
    study = get_study("pooling")
    for claim in study.claims:
        heading = next(line for line in report.splitlines() if line.startswith("### ") and f"`{claim.key}`" in line)
        assert any(word in heading for word in (HOLDS, FAILS, INCONCLUSIVE)), heading
        assert claim.statement in report and claim.source in report
    assert "- Command: `spikedyn study pooling --budget smoke" in report and "- Machine: " in report
    assert "8 of 8 completed" in report
    with open(out / "table.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 4 and all(row["n"] == "2" and row["accuracy_n"] == "2" for row in rows)
    assert all((out / "figures" / f"{name}.{ext}").is_file() for name in ("means", "test_accuracy") for ext in ("png", "svg"))

    capsys.readouterr()
    assert main(["study", "pooling", "--budget", "smoke", "--out", str(out)]) == 0
    again = capsys.readouterr().out
    assert "8 completed" in again and "started" not in again, again

    assert main(["table", str(out / "pooling"), "--out", str(tmp_path / "t")]) == 0, "the runs aggregate as any sweep's"
    assert "max - avg" in (tmp_path / "t.md").read_text()

    trained_by = "spikedyn study pooling --budget smoke --workers 2 --out elsewhere"
    (out / "inputs" / "command.txt").write_text(trained_by + "\n")
    assert main(["study", "pooling", "--budget", "smoke", "--out", str(out), "--report-only"]) == 0
    assert f"- Command: `{trained_by}`" in (out / "study.md").read_text(), "a rewritten report names the command that trained"


def _pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_a_studys_records_rebuild_its_report_byte_for_byte_elsewhere(pooling_smoke, capsys):
    import numpy as np

    out, report, pixels, committed = pooling_smoke
    records = sorted(path.relative_to(committed) for path in (committed / "records").rglob("*") if path.is_file())
    assert len(records) == 8 * 3  # config, metrics and summary of each run
    run_root = str(out.parent)
    assert not any("/" in line and run_root in line for line in (committed / "records").rglob("summary.json") for line in line.read_text().splitlines())
    assert main(["study", "pooling", "--budget", "smoke", "--out", str(committed), "--report-only"]) == 0
    for name, data in report.items():
        assert (committed / name).read_bytes() == data, f"{name} differs when rebuilt from the records"
    for name, image in pixels.items():
        assert np.array_equal(_pixels(committed / name), image), f"{name} differs in its pixels"
    assert "records/" in (committed / "table.csv").read_text() and run_root not in (committed / "study.md").read_text()

    capsys.readouterr()
    assert main(["study", "pooling", "--budget", "full", "--out", str(committed), "--report-only"]) == 2
    assert "run with the smoke budget, not the full budget: pass --budget smoke" in capsys.readouterr().err

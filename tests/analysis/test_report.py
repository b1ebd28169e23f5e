"""The HTML report of a real small run: self-contained, the run's figures first, illustrations only on request."""

import base64
import re

import pytest
from matplotlib.figure import Figure

from spikedyn.analysis import figure_registry
from spikedyn.analysis.figure_registry import FigureSpec
from spikedyn.analysis import figures
from spikedyn.analysis.report import FIRST, report_figures, write_report
from spikedyn.analysis.run_records import MissingRecords
from spikedyn.cli import main
from spikedyn.training.config import load_config
from spikedyn.training.train import train

QUICK = ["trainer.max_epochs=2", "trainer.progress_bar=false", "records.tensorboard=false", "data.batch_size=64", "data.options.time_steps=2"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    return train(load_config(None, [*QUICK, "name=report_probe"]), output_dir=tmp_path_factory.mktemp("runs"))


def loss_curve(runs, **options):
    figure = Figure(figsize=(3, 2))
    figure.add_subplot().plot(*runs[0].column("train_loss"))
    return figure


def needs_snapshots(runs, **options):
    raise MissingRecords("run has no snapshots; set records.snapshot_every above 0 <now>")


def broken(runs, **options):
    raise RuntimeError("boom")


def model_curve(runs, **options):
    assert runs == []
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


@pytest.fixture
def probe_figures(monkeypatch):
    """Only these figures in the registry, whatever other modules registered."""
    probes = {
        name: FigureSpec(name, draw, "test figure", needs_runs, max_runs)
        for name, draw, needs_runs, max_runs in [
            ("probe_loss", loss_curve, True, None), ("probe_snapshots", needs_snapshots, True, 1),
            ("probe_broken", broken, True, None), ("probe_model", model_curve, False, None), ("probe_none", broken, True, 0),
        ]
    }  # fmt: skip
    monkeypatch.setattr(figure_registry, "FIGURES", probes)
    return probes


def test_the_report_is_self_contained_with_summary_and_embedded_figures(small_run, probe_figures, monkeypatch):
    drawn, draw = [], figure_registry.draw_figure
    monkeypatch.setattr(figure_registry, "draw_figure", lambda name, runs, **o: drawn.append(name) or draw(name, runs, **o))
    path = write_report(small_run.path, illustrations=True)
    assert path == small_run.path / "report.html"
    text = path.read_text(encoding="utf-8")
    summary = small_run.summary()
    assert "report_probe" in text and "completed" in text
    assert "protocol B (85/15 split; test accuracy at the best val" in text  # the run's own protocol, by name
    for result in ("protocol_B", "max_test"):
        assert f"{100 * summary[result]['test_acc']:.2f}%" in text
    assert "for information; not protocol A" in text
    assert "features.1" in text and "plifnet_mnist" in text and "train_loss" in text
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', text)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(base64.b64decode(s.split(",", 1)[1]).startswith(b"\x89PNG") for s in sources)
    for forbidden in ("http://", "https://", 'src="/', "<script", "<link"):
        assert forbidden not in text
    assert "probe_none" not in drawn and drawn.count("probe_model") == 1
    assert drawn == ["probe_loss", "probe_snapshots", "probe_broken", "probe_model"], "the run's figures first, illustrations last"
    assert text.index('alt="probe_loss"') < text.index('alt="probe_model"')
    missing = text.split("<h2>Figures not drawn</h2>", 1)[1]
    assert "probe_snapshots" in missing and "set records.snapshot_every above 0 &lt;now&gt;" in missing
    assert "probe_broken" in missing and "RuntimeError: boom" in missing
    assert "probe_loss" not in missing and "probe_model" not in missing


def test_the_report_goes_where_asked_and_leaves_illustrations_out_unless_asked(small_run, probe_figures, tmp_path):
    path = write_report(small_run.path, tmp_path / "elsewhere" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "elsewhere" / "r.html" and len(re.findall("<img ", text)) == 1
    assert 'alt="probe_model"' not in text
    assert "Not drawn from the run, so left out: probe_model" in text and "--illustrations" in text


def test_the_command_draws_illustrations_on_request(small_run, probe_figures, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(small_run.path), "--out", str(out), "--illustrations"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert len(re.findall("<img ", out.read_text(encoding="utf-8"))) == 2


def test_the_run_figures_come_first_and_the_neuron_model_illustrations_last():
    order = [spec.name for spec in report_figures()]
    assert tuple(order[: len(FIRST)]) == FIRST == ("accuracy", "tau", "firing_rates")
    assert {"imp_dynamics", "pattern_mapping", "speed"}.isdisjoint(order)
    assert all(figures.FIGURES[name].needs_runs for name in order)
    with_illustrations = [spec.name for spec in report_figures(illustrations=True)]
    assert with_illustrations[: len(order)] == order
    assert set(with_illustrations[len(order) :]) == {"imp_dynamics", "pattern_mapping", "speed"}

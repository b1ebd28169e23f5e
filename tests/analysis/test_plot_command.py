"""``spikedyn plot``: options anywhere among the runs, each figure's --help, the benchmark results found from any folder."""

from pathlib import Path

import pytest

import spikedyn
from spikedyn.analysis import figures
from spikedyn.analysis.figure_registry import figure_options
from spikedyn.analysis.run_records import MissingRecords
from spikedyn.analysis.speed_figure import default_results
from spikedyn.cli import main
from tests.analysis.run_folders import make_run

HISTORY = [{"epoch": e, "train_acc": 0.5 + e / 10, "val_acc": 0.4 + e / 10, "test_acc": 0.45 + e / 10} for e in range(3)]


@pytest.fixture
def two_runs(tmp_path):
    return [str(make_run(tmp_path / name, [f"name={name}"], history=HISTORY)) for name in ("run_a", "run_b")]


@pytest.fixture
def drawn(monkeypatch):
    """The (figure, run names, options) of every figure the command draws."""
    calls, draw = [], figures.draw_figure
    monkeypatch.setattr(figures, "draw_figure", lambda name, runs, **o: calls.append((name, [r.name for r in runs], o)) or draw(name, runs, **o))
    return calls


@pytest.mark.parametrize("order", [
    ["accuracy", "--out", "{out}", "{a}", "{b}"],
    ["accuracy", "{a}", "--out", "{out}", "{b}"],
    ["--set", "window=2", "accuracy", "{a}", "{b}", "--out", "{out}"],
    ["accuracy", "{a}", "--set", "window=2", "{b}", "--out={out}"],
])  # fmt: skip
def test_options_may_come_before_between_or_after_the_runs(two_runs, drawn, tmp_path, capsys, order):
    out = tmp_path / "figure.png"
    words = [word.format(out=out, a=two_runs[0], b=two_runs[1]) for word in order]
    assert main(["plot", *words]) == 0
    assert [(name, runs) for name, runs, _ in drawn] == [("accuracy", ["run_a", "run_b"])]
    assert out.is_file() and out.with_suffix(".svg").is_file()
    assert f"wrote {out}" in capsys.readouterr().out


def test_a_figure_help_shows_its_description_seed_figure_options_defaults_and_an_example(capsys):
    assert main(["plot", "accuracy", "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: spikedyn plot accuracy RUN [RUN ...]")
    assert "Train, validation and test accuracy per epoch" in text and "redraws: PLIF paper Fig. 6" in text
    assert "window=64" in text and "epochs in the trailing moving average" in text
    assert "splits=[train, val, test]" in text
    assert "example:\n  spikedyn plot accuracy runs/a runs/b --set window=64 --out accuracy.png" in text


def test_help_comes_before_or_after_the_figure_and_without_one_is_the_command_help(capsys):
    assert main(["plot", "--help", "pattern_mapping"]) == 0
    text = capsys.readouterr().out
    assert "setting=paper" in text and "drawn from: no run folder" in text and "weight_steps=null" in text
    assert main(["plot", "-h"]) == 0
    text = capsys.readouterr().out
    assert "spikedyn plot FIGURE --help" in " ".join(text.split()) and "--set KEY=VALUE" in text


def test_the_help_of_an_unknown_figure_lists_the_known_ones(capsys):
    assert main(["plot", "nope", "--help"]) == 2
    assert "unknown figure 'nope'; known figures: accuracy" in capsys.readouterr().err


def test_every_figure_option_has_its_meaning_written_down():
    for name, spec in figures.FIGURES.items():
        assert set(spec.options) == set(figure_options(spec)), f"figure {name}: document each option in register_figure(options=...)"
        assert all(meaning.strip() for meaning in spec.options.values())


def test_an_unknown_figure_option_names_the_ones_there_are(two_runs, capsys):
    assert main(["plot", "accuracy", *two_runs, "--set", "windw=3"]) == 2
    err = capsys.readouterr().err
    assert "figure 'accuracy' has no option 'windw'; its options: window, splits" in err and "spikedyn plot accuracy --help" in err


def test_speed_reads_the_checkouts_benchmark_results_whatever_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_results() == Path(spikedyn.__file__).resolve().parents[2] / "benchmarks" / "results" / "neuron.json"
    if not default_results().is_file():
        pytest.skip("spikedyn is not installed from a checkout with benchmark results")
    figure = figures.draw_figure("speed", [])
    assert figure.axes and all(ax.get_title().endswith("[fused]") for ax in figure.axes)


def test_speed_without_results_says_where_it_looked_and_how_to_point_elsewhere(tmp_path):
    with pytest.raises(MissingRecords, match=r"no neuron benchmark results at .*none\.json .*--set results=PATH"):
        figures.draw_figure("speed", [], results=str(tmp_path / "none.json"))

"""Every run figure drawn from small runs made here; missing records say which option records them."""

import json
import xml.etree.ElementTree as ElementTree

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from spikedyn.analysis.figures import FIGURES, draw_figure
from spikedyn.analysis.run_records import MissingRecords, load_run
from spikedyn.analysis.save import save_figure
from spikedyn.analysis.tau_figures import following_layer
from spikedyn.training.config import load_config
from spikedyn.training.train import train
from tests.analysis.run_folders import make_run

pytestmark = pytest.mark.slow
QUICK = ["trainer.progress_bar=false", "records.tensorboard=false", "data.batch_size=64", "data.options.time_steps=2"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plif_run(tmp_path_factory):
    config = load_config(None, [*QUICK, "trainer.max_epochs=3", "model.neuron.tau_shape=neuron", "model.neuron.tau_init=lognormal",
                                "model.neuron.tau_std=0.5", "model.neuron.imp=neuron", "records.weights=[classifier.2.layer]"])  # fmt: skip
    return load_run(train(config, output_dir=tmp_path_factory.mktemp("plif")).path)


@pytest.fixture(scope="module")
def lif_run(tmp_path_factory):
    config = load_config(None, [*QUICK, "trainer.max_epochs=1", "model.neuron.kind=lif", "model.neuron.tau_shape=layer", "records.snapshot_every=0"])
    return load_run(train(config, output_dir=tmp_path_factory.mktemp("lif")).path)


def _valid_files(paths):
    png, svg = paths
    assert png.read_bytes().startswith(PNG_SIGNATURE) and png.stat().st_size > 1000
    assert ElementTree.parse(svg).getroot().tag.endswith("svg")


@pytest.mark.parametrize("name", ["accuracy", "convergence", "firing_rates", "tau", "tau_violin", "wfc_tau", "timestep_accuracy", "channel_rates"])
def test_each_run_figure_draws_to_a_valid_png_and_svg(plif_run, tmp_path, name):
    figure = draw_figure(name, [plif_run])
    _valid_files(save_figure(figure, tmp_path / f"{name}.png"))


def test_curves_take_several_runs(plif_run, lif_run, tmp_path):
    for name in ("accuracy", "convergence", "timestep_accuracy"):
        figure = draw_figure(name, [plif_run, lif_run])
        legend_texts = [t.get_text() for ax in figure.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        assert any(plif_run.name in t for t in legend_texts)
        _valid_files(save_figure(figure, tmp_path / f"{name}.png"))


@pytest.mark.parametrize(
    "name, says",
    [("tau", "model.neuron.kind: plif"), ("tau_violin", "records.snapshot_every"), ("wfc_tau", "records.snapshot_every")],
)
def test_missing_records_name_the_option_that_records_them(lif_run, name, says):
    with pytest.raises(MissingRecords, match=says):
        draw_figure(name, [lif_run])


def test_wfc_tau_without_weights_asks_for_records_weights(tmp_path):
    config = load_config(None, [*QUICK, "trainer.max_epochs=1"])
    run = load_run(train(config, output_dir=tmp_path).path)
    with pytest.raises(MissingRecords, match=r"records.weights"):
        draw_figure("wfc_tau", [run])


def test_the_plif_layer_after_a_weight_is_found_by_module_path():
    layers = ["features.1", "features.4", "classifier.3", "classifier.6"]
    assert following_layer("classifier.2.layer", layers) == "classifier.3"
    assert following_layer("classifier.5.layer", layers) == "classifier.6"
    assert following_layer("features.0.layer.0", layers) == "features.1"
    with pytest.raises(ValueError, match="pass layer="):
        following_layer("classifier.7.layer", layers)


def test_speed_figure_from_benchmark_json(tmp_path):
    rows = [
        {"contender": f"spikedyn PLIF(layer){imp}", "backend": "fused", "mode": mode, "allocator": "default", "T": t, "BN": bn,
         "median_s": 0.001 * bn / 1024 * (1.2 if imp else 1) * (2 if mode == "user-first" else 1)}
        for imp in ("", "+IMP") for t in (8, 16) for bn in (1024, 65536) for mode in ("best-default", "user-first")
    ]  # fmt: skip
    results = tmp_path / "neuron.json"
    results.write_text(json.dumps({"results": rows}))
    figure = draw_figure("speed", [], results=str(results))
    assert len(figure.axes) == 2 and {ax.get_title() for ax in figure.axes} == {"T = 8 [fused]", "T = 16 [fused]"}
    assert sum(len(ax.lines) for ax in figure.axes) == 4  # one mode's rows only
    assert max(max(line.get_ydata()) for ax in figure.axes for line in ax.lines) == pytest.approx(0.001 * 64 * 1.2 * 1e3)
    with pytest.raises(MissingRecords, match="benchmarks/neuron.py"):
        draw_figure("speed", [], results=str(tmp_path / "none.json"))


@pytest.mark.parametrize("splits", [["test"], ["train", "test"], ["train", "val", "test"]])
@pytest.mark.parametrize("epochs", [12, 80])  # 12: the 64-epoch window is clamped, and the title says so (per panel, it overlapped)
def test_the_accuracy_titles_never_overlap(tmp_path, splits, epochs):
    history = [{"epoch": e, "train_acc": 0.5, "val_acc": 0.4, "test_acc": 0.45 + e / 200} for e in range(epochs)]
    run = load_run(make_run(tmp_path / "run", ["name=a_run_with_a_rather_long_name"], history=history))
    figure = draw_figure("accuracy", [run], splits=splits)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in figure.axes]
    assert [ax.get_title() for ax in figure.axes] == [f"{split} accuracy" for split in splits]
    assert not any(a.overlaps(b) for i, a in enumerate(titles) for b in titles[i + 1 :])
    [note] = [text.get_window_extent(renderer) for text in figure.texts]  # the suptitle
    assert not any(note.overlaps(title) for title in titles)
    inside = figure.bbox
    assert all(inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1 for box in [*titles, note])


def test_the_registry_names_each_figures_seed_figure():
    assert {"accuracy", "tau", "tau_violin", "wfc_tau", "convergence", "firing_rates", "channel_rates", "timestep_accuracy", "speed"} <= set(FIGURES)
    assert all(spec.redraws for spec in FIGURES.values())
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        draw_figure("nope", [])

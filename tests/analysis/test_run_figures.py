"""Every run figure drawn from small runs made here; missing records say which option records them."""

import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch.utils.data import DataLoader

from spikedyn.analysis.figures import FIGURES, draw_figure
from spikedyn.analysis.model_figures import first_layer_rates, split_dataset, trained_network
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


def _line(line) -> tuple[list[float], list[float]]:
    return [float(x) for x in line.get_xdata()], [float(y) for y in line.get_ydata()]


def _carries(line, column: tuple[list[int], list[float]], scale: float = 1.0) -> bool:
    """Whether the plotted ``line`` is the recorded (epochs, values) ``column``, values times ``scale``."""
    xs, ys = _line(line)
    epochs, values = column
    return len(epochs) > 0 and xs == epochs and ys == pytest.approx([scale * v for v in values])


def _check_accuracy(run, figure):
    assert [ax.get_title() for ax in figure.axes] == ["train accuracy", "val accuracy", "test accuracy"]
    for ax, split in zip(figure.axes, ("train", "val", "test")):
        epochs, values = run.column(f"{split}_acc")
        raw, smoothed = ax.lines
        assert _carries(raw, (epochs, values), scale=100)
        assert _line(smoothed)[1][0] == pytest.approx(100 * values[0]) and len(smoothed.get_ydata()) == len(epochs)


def _check_convergence(run, figure):
    [line] = figure.axes[0].lines
    assert _carries(line, run.column("train_loss"))


def _check_firing_rates(run, figure):
    keys = run.keys("rate/")
    assert [line.get_label() for line in figure.axes[0].lines] == [key[len("rate/") :] for key in keys]
    assert all(_carries(line, run.column(key)) for line, key in zip(figure.axes[0].lines, keys, strict=True))


def _check_tau(run, figure):
    layers = [key[len("tau/") : -len("/mean")] for key in run.keys("tau/", "/mean")]
    drawn = [ax for ax in figure.axes if ax.get_visible()]
    assert len(drawn) == len(layers) == 4
    for ax, layer in zip(drawn, layers):
        assert ax.get_title().endswith(layer) and _carries(ax.lines[0], run.column(f"tau/{layer}/mean"))


def _check_tau_violin(run, figure):
    tensors = run.snapshot(-1)["tensors"]
    taus = [tensors[key].double().flatten().numpy() for key in tensors if key.startswith("tau/")]
    assert len(taus) == 4
    # violinplot's LineCollections, in order: maxima, minima, bars, medians; one segment per layer, at its value
    maxima, minima, _, medians = [c for c in figure.axes[0].collections if type(c).__name__ == "LineCollection"]
    for collection, statistic in ((maxima, np.max), (minima, np.min), (medians, np.median)):
        heights = [segment[0][1] for segment in collection.get_segments()]
        assert heights == pytest.approx([statistic(tau) for tau in taus])


def _check_wfc_tau(run, figure):
    snapshots = [run.snapshot(i)["tensors"] for i in range(len(run.snapshot_files))]
    ratios = [s["weight/classifier.2.layer"].double() / s["tau/classifier.3"].double()[:, None] for s in snapshots]
    left, right = figure.axes
    assert len(left.patches) == len(snapshots)  # one step histogram per snapshot
    mean, std = right.lines
    assert _line(mean)[1] == pytest.approx([r.mean().item() for r in ratios]) and _line(std)[1] == pytest.approx([r.std(unbiased=False).item() for r in ratios])


def _check_timestep_accuracy(run, figure):
    by_step, by_mean = figure.axes[0].lines
    assert _line(by_step)[0] == _line(by_mean)[0] == [1.0, 2.0]  # T = 2
    # The mean of y[0..T-1] is the network's prediction: its accuracy is the test accuracy the run reported for its best epoch.
    assert _line(by_mean)[1][-1] == pytest.approx(100 * run.summary["protocol_B"]["test_acc"])
    assert all(0 <= y <= 100 for y in _line(by_step)[1])


def _check_channel_rates(run, figure):
    network, _, _ = trained_network(run, "best")
    frames, _ = next(iter(DataLoader(split_dataset(run, "test", 8), batch_size=8)))
    rates = first_layer_rates(network, frames)
    axes = np.array(figure.axes).reshape(4, 8)  # inputs, then the three busiest channels; one column per sample
    channels = [int(ax.get_ylabel().split()[-1]) for ax in axes[1:, 0]]
    assert channels == rates.mean(dim=(0, 2, 3)).argsort(descending=True)[:3].tolist()
    for column in range(8):
        np.testing.assert_allclose(axes[0, column].images[0].get_array(), frames[column].mean(0).sum(0).numpy())
        for row, channel in enumerate(channels, start=1):
            np.testing.assert_allclose(axes[row, column].images[0].get_array(), rates[column, channel].numpy())
    assert rates[:, channels].sum() > 0  # the maps shown are not blank


CHECKS = {
    "accuracy": _check_accuracy,
    "convergence": _check_convergence,
    "firing_rates": _check_firing_rates,
    "tau": _check_tau,
    "tau_violin": _check_tau_violin,
    "wfc_tau": _check_wfc_tau,
    "timestep_accuracy": _check_timestep_accuracy,
    "channel_rates": _check_channel_rates,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_run_figure_draws_the_recorded_data_to_a_valid_png_and_svg(plif_run, tmp_path, name):
    figure = draw_figure(name, [plif_run])
    CHECKS[name](plif_run, figure)  # a blank figure would still save to valid files
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

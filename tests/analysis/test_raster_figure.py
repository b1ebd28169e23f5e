"""The spike raster of one sample, checked against an independent forward pass of a small trained run."""

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from spikedyn.analysis.figures import FIGURES, draw_figure
from spikedyn.analysis.raster_figure import shown_neurons
from spikedyn.analysis.report import report_figures
from spikedyn.analysis.run_records import load_run
from spikedyn.cli import main
from spikedyn.data import build_dataset
from spikedyn.neurons import BaseNeuron
from spikedyn.training.config import load_config
from spikedyn.training.evaluate import load_network
from spikedyn.training.protocols import dataset_options
from spikedyn.training.train import train
from tests.training.runs import FAST

pytestmark = pytest.mark.slow
TINY = [*FAST, "data.options.time_steps=4", "trainer.max_epochs=1", "model.options.fc_features=64", "records.snapshot_every=0"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_run(folder, *overrides):
    """A one-epoch run of the digits default on a small budget, trained here."""
    return load_run(train(load_config(None, [*TINY, *overrides]), output_dir=folder).path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("raster"))


@pytest.fixture(scope="module")
def silent_run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("silent"), "model.neuron.v_threshold=1000")


def recorded_spikes(run, sample, split="test"):
    """({spiking layer name: spikes [T, N] of the flattened layer}, in network order) of one sample, run here."""
    network, config, _ = load_network(run.path / "checkpoints" / "best.ckpt")
    dataset = build_dataset(config.data.dataset, split, **dataset_options(config.data.options, config.protocol))
    frames, _ = dataset[sample]
    spikes = {}
    hooks = [
        module.register_forward_hook(lambda m, i, output, name=name: spikes.__setitem__(name, output[:, 0].flatten(1)))
        for name, module in network.named_modules()
        if isinstance(module, BaseNeuron)
    ]
    with torch.no_grad():
        network(frames.unsqueeze(1))
    for hook in hooks:
        hook.remove()
    return spikes


def marks(ax):
    """The (time step, neuron index) of every spike mark drawn in a panel."""
    return [(round(c.get_lineoffset()), round(n)) for c in ax.collections for n in c.get_positions()]


def panels_overlap(figure):
    """Whether any two panels, with their titles, tick labels and axis labels, overlap once drawn."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    boxes = [ax.get_tightbbox(canvas.get_renderer()) for ax in figure.axes]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_the_selected_neurons_are_evenly_spaced_from_the_first_to_the_last():
    chosen = shown_neurons(25_088, 64)
    assert len(chosen) == 64 and chosen[0] == 0 and chosen[-1] == 25_087
    assert set(np.diff(chosen)) <= {398, 399}
    np.testing.assert_array_equal(shown_neurons(10, 64), np.arange(10))
    assert shown_neurons(100, 1).tolist() == [0]
    with pytest.raises(ValueError, match="neurons must be a whole number of at least 1, got 0"):
        shown_neurons(100, 0)


@pytest.mark.parametrize("sample, neurons", [(0, 64), (7, 1000)])
def test_one_panel_per_spiking_layer_in_order_with_a_mark_per_recorded_spike(run, sample, neurons):
    figure = draw_figure("raster", [run], sample=sample, neurons=neurons)
    expected = recorded_spikes(run, sample)
    assert [ax.get_title().split(":")[0] for ax in figure.axes] == list(expected) and len(expected) == 4
    assert any(spikes.any() for spikes in expected.values()), "a trained run whose network never fires tests nothing"
    for ax, (name, spikes) in zip(figure.axes, expected.items()):
        chosen = shown_neurons(spikes.shape[1], neurons)
        steps, columns = torch.nonzero(spikes[:, torch.from_numpy(chosen)], as_tuple=True)
        drawn = marks(ax)
        assert len(drawn) == len(steps), name
        assert sorted(drawn) == sorted(zip(steps.tolist(), chosen[columns.numpy()].tolist())), name
        rate = f"rate {float(spikes.mean()):.3g}" if spikes.any() else "silent"
        assert ax.get_title().startswith(f"{name}: {len(chosen):,} of {spikes.shape[1]:,} neurons, {rate}")
    assert f"test sample {sample}: label " in figure.get_suptitle() and ", predicted " in figure.get_suptitle()
    assert not panels_overlap(figure)


def test_a_layer_that_never_fires_says_silent(silent_run):
    figure = draw_figure("raster", [silent_run], checkpoint="last")
    assert figure.axes and all(ax.get_title().endswith(", silent") for ax in figure.axes)
    assert not any(marks(ax) for ax in figure.axes)


def test_a_sample_out_of_range_or_a_wrong_checkpoint_is_a_clear_error(run):
    size = len(build_dataset("digits", "test", **run.config["data"]["options"]))
    with pytest.raises(ValueError, match=rf"sample {size} is out of range: the test split has {size:,} samples \(valid indices: 0 to {size - 1}\)"):
        draw_figure("raster", [run], sample=size)
    with pytest.raises(ValueError, match="sample -1 is out of range"):
        draw_figure("raster", [run], sample=-1)
    with pytest.raises(ValueError, match=r"checkpoint must be one of \['best', 'last'\], got 'lats'"):
        draw_figure("raster", [run], checkpoint="lats")


def test_the_command_draws_it_lists_it_and_the_report_includes_it(run, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["plot", "raster", str(run.path), "--out", str(out), "--set", "sample=3"]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE) and out.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    assert main(["plot", "--list"]) == 0
    assert any(line.startswith("raster ") and "spike raster" in line for line in capsys.readouterr().out.splitlines())
    assert FIGURES["raster"].max_runs == 1 and "raster" in [spec.name for spec in report_figures()]

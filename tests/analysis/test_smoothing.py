"""The trailing moving average of per-epoch curves, and a window longer than the run said in the figure."""

import pytest

from spikedyn.analysis.figures import draw_figure
from spikedyn.analysis.run_records import load_run
from spikedyn.analysis.smoothing import clamped_window, moving_average
from tests.analysis.run_folders import make_run


def test_window_one_is_the_identity():
    assert moving_average([3, 1.5, -2], window=1) == [3.0, 1.5, -2.0]


def test_window_three_averages_the_last_three_values_and_fewer_at_the_start():
    assert moving_average([1, 2, 3, 4, 5], window=3) == [1.0, 1.5, 2.0, 3.0, 4.0]


def test_a_window_longer_than_the_series_is_the_running_mean():
    assert moving_average([2, 4, 9], window=64) == [2.0, 3.0, 5.0]
    assert moving_average([]) == []


@pytest.mark.parametrize("window", [0, -1, 2.5, True])
def test_the_window_must_be_a_positive_integer(window):
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2], window=window)


def test_the_window_is_clamped_to_the_length_of_the_series():
    assert clamped_window(64, 3) == 3 and clamped_window(2, 3) == 2 and clamped_window(64, 0) == 1
    with pytest.raises(ValueError, match="window"):
        clamped_window(0, 5)


def test_the_accuracy_figure_says_when_its_window_is_longer_than_the_run(tmp_path):
    history = [{"epoch": e, "train_acc": 0.5, "val_acc": 0.5, "test_acc": 0.5 + e / 10} for e in range(3)]
    run = load_run(make_run(tmp_path / "short", ["name=short"], history=history))
    figure = draw_figure("accuracy", [run])
    assert [ax.get_title() for ax in figure.axes] == [f"{split} accuracy" for split in ("train", "val", "test")]
    assert figure.get_suptitle() == "solid: moving average over all 3 epochs\n(the 64-epoch window is longer than the run)"
    assert draw_figure("accuracy", [run], window=2).get_suptitle() == "solid: 2-epoch moving average"

"""The trailing moving average of per-epoch curves."""

import pytest

from spikedyn.analysis.smoothing import moving_average


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

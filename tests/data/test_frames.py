import numpy as np
import pytest

from spikedyn.data.events.frames import events_to_frames, in_time_order
from tests.data.events import make_events, random_events


def _eq_s1_by_the_letter(events, width, height, polarities, steps):
    """Eq. S1 written as the paper states it: slice j = events j*floor(N/T) .. j_r, counted one by one."""
    frames = np.zeros((steps, polarities, height, width), dtype=np.float32)
    n, per = len(events), len(events) // steps
    for j in range(steps):
        left = per * j
        right = per * (j + 1) if j < steps - 1 else n
        for e in events[left:right]:
            frames[j, e["p"], e["y"], e["x"]] += 1
    return frames


def test_a_small_case_counted_by_hand():
    # 5 events, T=2: floor(5/2)=2 events in slice 0, the last slice takes the other 3
    events = make_events(x=[0, 1, 1, 2, 1], y=[0, 0, 0, 1, 0], t=[1, 2, 3, 4, 5], p=[1, 0, 0, 1, 0])
    frames = events_to_frames(events, (3, 2, 2), T=2)
    assert frames.shape == (2, 2, 2, 3) and frames.dtype == np.float32
    expected = np.zeros((2, 2, 2, 3), dtype=np.float32)
    expected[0, 1, 0, 0] = 1  # (x0, y0, ON)
    expected[0, 0, 0, 1] = 1  # (x1, y0, OFF)
    expected[1, 0, 0, 1] = 2  # two more OFF at (x1, y0)
    expected[1, 1, 1, 2] = 1  # ON at (x2, y1)
    np.testing.assert_array_equal(frames, expected)


@pytest.mark.parametrize("count, steps", [(1000, 7), (1000, 10), (37, 5), (3, 8)])
def test_equal_count_slices_match_eq_s1_exactly(count, steps):
    events = random_events(count, 6, 5, seed=count)
    frames = events_to_frames(events, (6, 5, 2), T=steps)
    np.testing.assert_array_equal(frames, _eq_s1_by_the_letter(events, 6, 5, 2, steps))
    assert frames.sum() == count


def test_fewer_events_than_steps_still_give_t_frames():
    events = make_events(x=[0, 1], y=[0, 0], t=[0, 1], p=[0, 1])
    frames = events_to_frames(events, (2, 1, 2), T=4)
    assert frames.shape == (4, 2, 1, 2)
    assert frames[:3].sum() == 0 and frames[3].sum() == 2
    empty = events_to_frames(events[:0], (2, 1, 2), T=4)
    assert empty.shape == (4, 2, 1, 2) and empty.sum() == 0


def test_time_slices_have_equal_durations():
    # t spans 0..100 in T=4 windows of 25 us; t=100 belongs to the last window
    events = make_events(x=[0, 0, 0, 0, 0], y=[0] * 5, t=[0, 24, 25, 60, 100], p=[0] * 5)
    frames = events_to_frames(events, (1, 1, 1), T=4, split_by="time")
    np.testing.assert_array_equal(frames[:, 0, 0, 0], [2, 1, 1, 1])


def test_time_slicing_keeps_every_event():
    events = random_events(5000, 8, 8, seed=3)
    assert events_to_frames(events, (8, 8, 2), T=9, split_by="time").sum() == 5000


def test_bad_inputs_say_what_was_expected():
    events = make_events(x=[0, 3], y=[1, 2], t=[0, 1], p=[0, 1])
    with pytest.raises(ValueError, match=r"field x spans \[0, 3\], outside the sensor's \[0, 2\)"):
        events_to_frames(events, (2, 4, 2), T=2)
    with pytest.raises(ValueError, match="split_by='space'"):
        events_to_frames(events, (4, 4, 2), T=2, split_by="space")
    with pytest.raises(ValueError, match="T must be a positive int"):
        events_to_frames(events, (4, 4, 2), T=0)
    with pytest.raises(ValueError, match=r"\(W, H, P\)"):
        events_to_frames(events, (4, 4), T=2)
    with pytest.raises(ValueError, match="lack the field"):
        events_to_frames(np.zeros(3, dtype=[("x", int), ("y", int), ("t", int)]), (4, 4, 2), T=2)
    with pytest.raises(TypeError, match="structured numpy array"):
        events_to_frames(np.zeros((3, 4)), (4, 4, 2), T=2)


@pytest.mark.parametrize("split_by", ["number", "time"])
def test_a_shuffled_sample_gives_the_frames_of_the_sorted_sample(split_by):
    events = random_events(997, 6, 5, seed=11)
    shuffled = events[np.random.default_rng(0).permutation(len(events))]
    assert not np.all(np.diff(shuffled["t"]) >= 0)
    expected = events_to_frames(events, (6, 5, 2), T=7, split_by=split_by)
    np.testing.assert_array_equal(events_to_frames(shuffled, (6, 5, 2), T=7, split_by=split_by), expected)


def test_sorting_is_stable_for_equal_timestamps():
    # stored order: t = 5, 1, 1, 1; the three events at t=1 keep their order (x = 0, 1, 2), then t=5 (x = 3)
    events = make_events(x=[3, 0, 1, 2], y=[0] * 4, t=[5, 1, 1, 1], p=[0] * 4)
    frames = events_to_frames(events, (4, 1, 1), T=2)
    np.testing.assert_array_equal(frames[:, 0, 0], [[1, 1, 0, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(in_time_order(events)["x"], [0, 1, 2, 3])


def test_sorted_samples_are_not_copied():
    events = random_events(100, 4, 4, seed=2)
    assert in_time_order(events) is events
    ties = make_events(x=[0, 1], y=[0, 0], t=[3, 3], p=[0, 0])
    assert in_time_order(ties) is ties

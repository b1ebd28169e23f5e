"""The simulated event camera: N-MNIST's saccades over a grey image give event streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tonic
from scipy import ndimage

from spikedyn.data.events import camera as event_camera
from spikedyn.data.static.digits import digit_images, upscale_images
from spikedyn.data.events.camera import SACCADE_PATH, simulate_saccades, simulate_video
from spikedyn.data.events.nmnist_format import NMNIST_DTYPE, write_nmnist_file

DIGITS = upscale_images(digit_images()[0][:6], 3)  # 24x24


def _counts(events: np.ndarray, sensor: tuple[int, int]) -> np.ndarray:
    """Events per (polarity, y, x)."""
    counts = np.zeros((2, sensor[1], sensor[0]), dtype=np.int64)
    np.add.at(counts, (events["p"], events["y"], events["x"]), 1)
    return counts


def test_a_still_image_gives_no_events():
    still = ((0.0, 0.0),) * 4
    streams = simulate_saccades(DIGITS[:2], path=still)
    assert [len(s) for s in streams] == [0, 0]


def test_a_bright_pixel_fires_on_ahead_and_off_behind():
    image = np.zeros((5, 5), dtype=np.float32)
    image[2, 2] = 1.0
    sensor = (16, 16)
    events = simulate_saccades(image[None], sensor=sensor)[0]
    # the swept region (5 + 7 pixels) centred on 16: the image starts at (2, 2), its bright pixel at (4, 4)
    start = (4, 4)
    # in the first 10 ms the image moves by (0.35, 0.7) px: light leaves the start pixel for those ahead
    early = events[events["t"] < 10_000]
    off, on = early[early["p"] == 0], early[early["p"] == 1]
    assert set(zip(off["x"].tolist(), off["y"].tolist())) == {start}
    assert len(on) > 0 and set(zip(on["x"].tolist(), on["y"].tolist())) <= {(5, 4), (4, 5), (5, 5)}
    # over the first saccade the ON events lead the OFF events along its direction (3.5, 7)
    saccade = events[events["t"] < 100_000]
    on_xy = np.stack([saccade["x"][saccade["p"] == 1], saccade["y"][saccade["p"] == 1]], 1).mean(0)
    off_xy = np.stack([saccade["x"][saccade["p"] == 0], saccade["y"][saccade["p"] == 0]], 1).mean(0)
    assert (on_xy - off_xy) @ np.array([3.5, 7.0]) > 0


def test_a_step_change_fires_floor_of_log_change_over_c_events():
    eps, threshold, dt = 0.5, 0.15, 1000
    before, after = 0.2, 0.9
    frames = np.array([before, after, before], dtype=np.float32).reshape(3, 1, 1, 1)
    events = simulate_video(frames, threshold=threshold, dt_us=dt, eps=eps)[0]
    change = math.log(after + eps) - math.log(before + eps)
    n = math.floor(change / threshold)
    assert n >= 2
    up, down = events[events["t"] < dt], events[events["t"] >= dt]
    assert len(up) == n and set(up["p"]) == {1}
    assert len(down) == n and set(down["p"]) == {0}  # back to the start level: exactly as many OFF
    # log intensity is taken to move linearly over the step: level j is crossed at j C / change of it
    expected = [math.floor(dt * j * threshold / change) for j in range(1, n + 1)]
    assert up["t"].tolist() == expected


def test_darkening_fires_off_events():
    frames = np.array([1.0, 0.0], dtype=np.float32).reshape(2, 1, 1, 1)
    events = simulate_video(frames, threshold=0.2, eps=0.1)[0]
    assert len(events) == math.floor((math.log(1.1) - math.log(0.1)) / 0.2) and set(events["p"]) == {0}


def test_events_are_sorted_inside_the_recording_and_the_sensor():
    sensor = (34, 30)
    for events in simulate_saccades(DIGITS[:3], sensor=sensor, saccade_us=50_000):
        assert events.dtype == NMNIST_DTYPE and len(events) > 0
        assert np.all(np.diff(events["t"]) >= 0)
        assert events["t"].min() >= 0 and events["t"].max() < 3 * 50_000
        assert events["x"].min() >= 0 and events["x"].max() < sensor[0]
        assert events["y"].min() >= 0 and events["y"].max() < sensor[1]
        assert set(np.unique(events["p"])) == {0, 1}


def test_the_closed_triangle_returns_every_pixel_to_its_start():
    # the last frame equals the first, so each pixel's ON and OFF events cancel
    for events in simulate_saccades(DIGITS[:3]):
        counts = _counts(events, (34, 34))
        np.testing.assert_array_equal(counts[0], counts[1])


def test_matches_an_independent_simulation_pixel_by_pixel():
    # scipy renders the moving digit (bilinear, zero outside); the reference is kept as the first log
    # intensity plus a whole number of thresholds, so an intensity seen before gives the same level
    sensor, eps, threshold = 34, event_camera.EPS, 0.15
    offsets = event_camera.saccade_offsets(SACCADE_PATH, 100_000, 1000)
    origin = (sensor - 24 - 7) / 2
    streams = simulate_saccades(DIGITS[:2], threshold=threshold)
    for image, events in zip(DIGITS[:2].astype(np.float64), streams):
        canvas = np.pad(image, ((0, sensor - 24), (0, sensor - 24)))

        def log_frame(dx, dy, canvas=canvas):
            moved = ndimage.shift(canvas, (origin + dy, origin + dx), order=1, mode="grid-constant", prefilter=False)
            return np.log(moved + eps)

        first, level = log_frame(*offsets[0]), 0
        expected = np.zeros((2, sensor, sensor), dtype=np.int64)
        for dx, dy in offsets[1:]:
            fired = np.trunc((log_frame(dx, dy) - first) / threshold - level)
            level = level + fired
            expected[1] += np.maximum(fired, 0).astype(np.int64)
            expected[0] += np.maximum(-fired, 0).astype(np.int64)
        np.testing.assert_array_equal(_counts(events, (sensor, sensor)), expected)


def test_each_image_is_simulated_alone_whatever_the_batch(monkeypatch):
    together = simulate_saccades(DIGITS[:5])
    monkeypatch.setattr(event_camera, "CHUNK", 2)  # several chunks, on threads
    chunked = simulate_saccades(DIGITS[:5])
    alone = simulate_saccades(DIGITS[3:4])[0]
    for a, b in zip(together, chunked):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(alone, together[3])


def test_threshold_mismatch_and_noise_follow_the_seed():
    kwargs = {"threshold_sigma": 0.1, "noise_rate_hz": 20.0}
    first, again, other = (simulate_saccades(DIGITS[:1], seed=s, **kwargs)[0] for s in (0, 0, 1))
    plain = simulate_saccades(DIGITS[:1])[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other) and not np.array_equal(first, plain)
    assert np.all(np.diff(first["t"]) >= 0)
    thresholds = event_camera.pixel_thresholds((34, 34), 0.15, 0.1, 0)
    assert thresholds.min() > 0 and abs(thresholds.mean() - 0.15) < 0.01


def test_noise_alone_has_the_requested_rate():
    rate, sensor, duration = 50.0, (34, 34), 300_000
    events = simulate_saccades(DIGITS[:1], path=((0.0, 0.0),) * 4, noise_rate_hz=rate)[0]
    expected = rate * sensor[0] * sensor[1] * duration * 1e-6
    assert abs(len(events) - expected) < 5 * math.sqrt(expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"images": np.full((1, 4, 4), 1.5)}, r"\[0, 1\]"),
        ({"images": np.zeros((4, 4))}, r"\[N, H, W\]"),
        ({"images": np.zeros((1, 40, 40))}, "do not fit"),
        ({"threshold": 0}, "threshold"),
        ({"dt_us": 300}, "multiple of dt_us"),
        ({"sensor": (34,)}, "sensor"),
        ({"noise_rate_hz": -1.0}, "noise_rate_hz"),
        ({"path": ((0, 0),)}, "path"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    kwargs = {"images": DIGITS[:1], **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_saccades(**kwargs)


def test_simulated_events_survive_the_nmnist_format(tmp_path):
    events = simulate_saccades(DIGITS[:1])[0]
    path = write_nmnist_file(tmp_path / "0.bin", events)
    np.testing.assert_array_equal(tonic.io.read_mnist_file(str(path), dtype=NMNIST_DTYPE), events)

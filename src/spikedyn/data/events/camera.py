"""A simulated event camera: grey images moved along N-MNIST's three saccades become event streams.

N-MNIST (Orchard et al. 2015) was recorded by a DVS watching MNIST digits on a monitor while the
sensor made three ~100 ms saccades tracing a triangle. Here the image is moved the same way in
software: each step of ``dt_us`` renders it at its sub-pixel offset (bilinear), and every pixel
that is ``k`` contrast thresholds C away from its reference log intensity log(I + eps) emits
``k`` events (ON p=1 for brighter, OFF p=0 for darker) and moves its reference by ``k`` C.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from spikedyn.data.events.nmnist_format import (
    NMNIST_DTYPE,
)

#: Image offsets (dx, dy) in pixels at the ends of the saccades: N-MNIST's triangle (tonic's ``stabilize``).
SACCADE_PATH: tuple[tuple[float, float], ...] = ((0.0, 0.0), (3.5, 7.0), (7.0, 0.0), (0.0, 0.0))
#: Light a black pixel still gets (the monitor's black level): keeps log(I + eps) finite for I = 0.
EPS = 0.5
#: Per-pixel thresholds never fall below this fraction of C, however large the mismatch.
MIN_THRESHOLD_FRACTION = 0.1
#: Images simulated together: their buffers stay in cache, which is what makes the loop fast.
CHUNK = 128
#: Pixels are examined when this close (relative and absolute) to firing: float32 rounding never hides a crossing.
BOUND_MARGIN = 1e-5
#: Threads simulating chunks at once (at most one per core).
MAX_WORKERS = 8


def check_positive(name: str, value: object, integer: bool = False) -> float | int:
    """A positive number (an int when ``integer``), or a ValueError naming ``name``."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        raise ValueError(f"{name} must be a positive {'int' if integer else 'number'}, got {value!r}")
    return int(value) if integer else float(value)


def _check_intensities(name: str, values: object, ndim: int, layout: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != ndim or array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real array {layout}, got shape {array.shape} and dtype {array.dtype}")
    if array.size and (not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1):
        raise ValueError(f"{name} must hold intensities in [0, 1], got values in [{array.min()}, {array.max()}]")
    return array.astype(np.float32)


def pixel_thresholds(shape: tuple[int, int], threshold: float, sigma: float, seed: int) -> np.ndarray:
    """Contrast thresholds [H, W] of a sensor's pixels: C * (1 + sigma * N(0, 1)), fixed by ``seed``.

    Mismatch belongs to the sensor, not the scene: every recording made with one seed sees the same map.
    """
    threshold = check_positive("threshold", threshold)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma < 0:
        raise ValueError(f"threshold_sigma must be a number >= 0, got {sigma!r}")
    if sigma == 0:
        return np.full(shape, threshold)
    spread = 1.0 + sigma * np.random.default_rng(seed).standard_normal(shape)
    return threshold * np.maximum(spread, MIN_THRESHOLD_FRACTION)


class _Pixels:
    """The pixels of a batch of images [B, H, W], stepped one rendered frame at a time.

    A pixel's reference is kept as an integer level m over its first log intensity, base + m C,
    so that returning to an earlier intensity undoes exactly the events that left it. Rather than
    taking the log of every pixel at every step, each pixel keeps the intensities at which it next
    fires (a hair inside, so float32 rounding hides no crossing); only pixels reaching them are
    examined in log space.
    """

    def __init__(self, first: np.ndarray, thresholds: np.ndarray, eps: float) -> None:
        self.eps = eps
        self.pixels = thresholds.size
        self.thresholds = np.broadcast_to(thresholds, first.shape).reshape(-1).astype(np.float64)
        self.base = np.log(first.reshape(-1).astype(np.float64) + eps)
        self.level = np.zeros(first.size)
        self.upper = np.empty(first.shape, dtype=np.float32)
        self.lower = np.empty(first.shape, dtype=np.float32)
        self._set_bounds(np.arange(first.size))
        self.previous = first
        self._above = np.empty(first.shape, dtype=bool)
        self._below = np.empty(first.shape, dtype=bool)
        # per step with crossings: step, pixels, signed crossing counts, levels before, intensities before, levels now (real)
        self.records: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def _set_bounds(self, where: np.ndarray, base: np.ndarray | None = None, threshold: np.ndarray | None = None) -> None:
        base = self.base[where] if base is None else base
        threshold = self.thresholds[where] if threshold is None else threshold
        level = np.exp(base + self.level[where] * threshold)
        step = np.exp(threshold)
        self.upper.reshape(-1)[where] = level * step * (1 - BOUND_MARGIN) - (self.eps + BOUND_MARGIN)
        self.lower.reshape(-1)[where] = level / step * (1 + BOUND_MARGIN) - (self.eps - BOUND_MARGIN)

    def step(self, frame: np.ndarray, step: int) -> None:
        """Record the crossings from the previous frame to ``frame`` (intensities, kept until the next step) as step ``step``."""
        np.greater_equal(frame, self.upper, out=self._above)
        np.less_equal(frame, self.lower, out=self._below)
        where = np.flatnonzero(np.logical_or(self._above, self._below, out=self._above))
        if where.size:
            base, threshold = self.base[where], self.thresholds[where]
            now = (np.log(frame.reshape(-1)[where].astype(np.float64) + self.eps) - base) / threshold
            before = self.level[where]
            signed = np.trunc(now - before)  # +-floor(|change| / C)
            self.level[where] = before + signed
            self._set_bounds(where, base, threshold)
            self.records.append((step, where, signed, before, self.previous.reshape(-1)[where], now))
        self.previous = frame

    def events(self, width: int, dt_us: int, steps: int) -> tuple[np.ndarray, ...]:
        """(image, x, y, t, p) of all events so far, sorted by image, then time, then pixel."""
        step = np.concatenate([np.full(len(r[1]), r[0], dtype=np.int64) for r in self.records] or [np.empty(0, np.int64)])
        where = np.concatenate([r[1] for r in self.records] or [np.empty(0, np.int64)])
        signed, before, previous, now = (np.concatenate([r[i] for r in self.records] or [np.empty(0)]) for i in range(2, 6))
        # the log intensity moves linearly over the step from ``previous`` to ``now`` (in levels):
        # crossing j = 1..count of level before +- j happens at fraction start + j * per_crossing of it.
        # Pixels examined that fell just short of a level have count 0 (and maybe moved 0): np.repeat drops them.
        previous = (np.log(previous.astype(np.float64) + self.eps) - self.base[where]) / self.thresholds[where]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_crossing = 1 / np.abs(now - previous)
            start = (before - previous) * np.copysign(per_crossing, signed)
            first = start + per_crossing
        count = np.abs(signed).astype(np.int64)

        # one int64 key per event, (image, t, pixel, p) from most to least significant: sorting the
        # keys (much faster than an argsort) orders the events, and the fields are decoded from them
        duration = steps * dt_us
        images = int(where.max()) // self.pixels + 1 if len(where) else 1
        if images * duration * self.pixels * 2 >= 2**63:
            raise ValueError(f"{images} images x {duration} us x {self.pixels} pixels are too many to simulate at once; pass fewer images")
        image = where // self.pixels
        key = ((image * duration + (step - 1) * dt_us) * self.pixels + (where - image * self.pixels)) * 2 + (signed > 0)
        if count.max(initial=0) <= 1:  # the usual case with small steps: one crossing per pixel and step
            fraction, key = first[count == 1], key[count == 1]
        else:
            crossing = np.arange(int(count.sum()), dtype=np.float64) - np.repeat(np.cumsum(count) - count, count) + 1
            fraction = np.repeat(start, count) + crossing * np.repeat(per_crossing, count)
            key = np.repeat(key, count)
        micro = np.clip(np.floor(fraction * dt_us), 0, dt_us - 1).astype(np.int64)
        keys = key + micro * (self.pixels * 2)
        keys.sort()
        p = keys & 1
        keys >>= 1
        rest = keys // self.pixels
        pixel = keys - rest * self.pixels
        image = rest // duration
        t = rest - image * duration
        y = pixel // width
        return image, pixel - y * width, y, t, p


def _split_by_image(count: int, image: np.ndarray, x: np.ndarray, y: np.ndarray, t: np.ndarray, p: np.ndarray) -> list[np.ndarray]:
    bounds = np.searchsorted(image, np.arange(count + 1))
    streams = []
    for low, high in itertools.pairwise(bounds):
        events = np.empty(high - low, dtype=NMNIST_DTYPE)
        events["x"], events["y"], events["t"], events["p"] = x[low:high], y[low:high], t[low:high], p[low:high]
        streams.append(events)
    return streams


def check_rate(rate_hz: object) -> float:
    """A noise rate in Hz: a finite number >= 0."""
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float, np.integer, np.floating)) or not 0 <= rate_hz < float("inf"):
        raise ValueError(f"noise_rate_hz must be a finite number >= 0 (events per pixel per second), got {rate_hz!r}")
    return float(rate_hz)


def background_noise(rate_hz: float, sensor: tuple[int, int], duration_us: int, rng: np.random.Generator) -> np.ndarray:
    """Background activity: Poisson events at ``rate_hz`` per pixel, random polarity, sorted by t."""
    width, height = sensor
    count = rng.poisson(rate_hz * width * height * duration_us * 1e-6)
    events = np.empty(count, dtype=NMNIST_DTYPE)
    events["x"] = rng.integers(0, width, count)
    events["y"] = rng.integers(0, height, count)
    events["t"] = np.sort(rng.integers(0, duration_us, count))
    events["p"] = rng.integers(0, 2, count)
    return events


def add_background_noise(events: np.ndarray, rate_hz: float, sensor: tuple[int, int], duration_us: int, rng: np.random.Generator) -> np.ndarray:
    """``events`` merged with :func:`background_noise`, still sorted by t."""
    if check_rate(rate_hz) == 0:
        return events
    merged = np.concatenate([events, background_noise(rate_hz, sensor, duration_us, rng)])
    return merged[np.argsort(merged["t"], kind="stable")]


def simulate_video(
    frames: np.ndarray, threshold: float = 0.15, dt_us: int = 1000, eps: float = EPS, threshold_sigma: float = 0.0, seed: int = 0
) -> list[np.ndarray]:
    """Events of videos ``frames`` [S + 1, N, H, W] (intensities in [0, 1], one frame every ``dt_us``).

    Frame 0 sets the references; the events between frames s-1 and s get times in
    [(s-1) dt, s dt), where the linearly interpolated log intensity crosses each level.
    One tonic-style structured array (x, y, t, p) per video, sorted by t.
    """
    frames = _check_intensities("frames", frames, 4, "[S + 1, N, H, W]")
    dt_us = check_positive("dt_us", dt_us, integer=True)
    eps = check_positive("eps", eps)
    _, count, height, width = frames.shape
    pixels = _Pixels(frames[0], pixel_thresholds((height, width), threshold, threshold_sigma, seed), eps)
    for step in range(1, len(frames)):
        pixels.step(frames[step], step)
    return _split_by_image(count, *pixels.events(width, dt_us, len(frames) - 1))


def check_sensor(sensor: object) -> tuple[int, int]:
    """The sensor as (width, height) of positive ints."""
    if not isinstance(sensor, Sequence) or len(sensor) != 2 or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in sensor):
        raise ValueError(f"sensor must be (width, height) with positive ints, got {sensor!r}")
    return int(sensor[0]), int(sensor[1])


def _check_path(path: object) -> np.ndarray:
    array = np.asarray(path, dtype=np.float64) if isinstance(path, Sequence) else np.empty(0)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) < 2 or not np.all(np.isfinite(array)):
        raise ValueError(f"path must be at least two (dx, dy) offsets in pixels, one per saccade end, got {path!r}")
    return array


class _Canvas:
    """Images [B, H, W] on a zero canvas, read back at any sub-pixel offset over a sensor window by bilinear interpolation."""

    def __init__(self, images: np.ndarray, window: tuple[int, int], shifts: tuple[range, range]) -> None:
        batch, image_h, image_w = images.shape
        self.window = window
        rows, cols = shifts  # the integer parts of the offsets to come
        # window row v at integer shift iy reads canvas rows top - iy - 1 + v and top - iy + v (columns alike)
        self.top, self.left = max(rows.stop, 1), max(cols.stop, 1)
        canvas_h = max(window[0] - rows.start, image_h) + self.top + 1
        canvas_w = max(window[1] - cols.start, image_w) + self.left + 1
        self.canvas = np.zeros((batch, canvas_h, canvas_w), dtype=np.float32)
        self.canvas[:, self.top : self.top + image_h, self.left : self.left + image_w] = images
        self._rows = np.empty((batch, window[0], window[1] + 1), dtype=np.float32)
        self._outs = [np.empty((batch, window[0], window[1]), dtype=np.float32) for _ in range(2)]

    def render(self, dx: float, dy: float) -> np.ndarray:
        """The window's view of the images shifted by (dx, dy) pixels, in a buffer the call after next reuses."""
        ix, iy = int(np.floor(dx)), int(np.floor(dy))
        fx, fy = np.float32(dx - ix), np.float32(dy - iy)
        height, width = self.window
        r, c = self.top - iy, self.left - ix - 1  # columns c .. c + width: one extra for the horizontal pass
        # a + f (b - a) rather than (1 - f) a + f b: where a == b it gives a exactly, so uniform
        # areas render the same at every offset
        here, above = self.canvas[:, r : r + height, c : c + width + 1], self.canvas[:, r - 1 : r - 1 + height, c : c + width + 1]
        np.subtract(above, here, out=self._rows)
        self._rows *= fy
        self._rows += here
        out = self._outs[0]
        self._outs.reverse()
        np.subtract(self._rows[:, :, :-1], self._rows[:, :, 1:], out=out)
        out *= fx
        out += self._rows[:, :, 1:]
        return out


def saccade_offsets(path: Sequence[tuple[float, float]], saccade_us: int, dt_us: int) -> np.ndarray:
    """Image offsets [steps + 1, 2] (dx, dy) at times 0, dt, 2 dt, ...: linear along each saccade of ``path``."""
    path = _check_path(path)
    saccade_us, dt_us = check_positive("saccade_us", saccade_us, integer=True), check_positive("dt_us", dt_us, integer=True)
    if saccade_us % dt_us:
        raise ValueError(f"saccade_us={saccade_us} must be a multiple of dt_us={dt_us} so that the saccade ends fall on steps")
    times = np.arange((len(path) - 1) * saccade_us // dt_us + 1) * dt_us
    ends = np.arange(len(path)) * saccade_us
    return np.stack([np.interp(times, ends, path[:, 0]), np.interp(times, ends, path[:, 1])], axis=1)


def simulate_saccades(
    images: np.ndarray,
    sensor: tuple[int, int] = (34, 34),
    threshold: float = 0.15,
    dt_us: int = 1000,
    saccade_us: int = 100_000,
    seed: int = 0,
    *,
    eps: float = EPS,
    threshold_sigma: float = 0.0,
    noise_rate_hz: float = 0.0,
    path: Sequence[tuple[float, float]] = SACCADE_PATH,
) -> list[np.ndarray]:
    """Events of grey ``images`` [N, H, W] (in [0, 1]) seen by a ``sensor`` (width, height) making N-MNIST's saccades.

    Each image sits so that the region it sweeps is centred on the sensor (pixels pushed off
    it are lost), moves through the offsets of ``path`` (one saccade of ``saccade_us`` between
    consecutive ones; N-MNIST's triangle by default) and is rendered in float32 every ``dt_us``
    by bilinear interpolation, zero outside the image. A pixel fires floor(|log change| / C)
    events at a step; they are timed where its log intensity, taken to move linearly over the
    step, crosses each level, so every t lies in [0, saccades * saccade_us). ``seed`` fixes the
    threshold mismatch map (``threshold_sigma``, relative; one map for all images, as one
    sensor recorded them) and the background noise of image i (``noise_rate_hz`` per pixel,
    from ``default_rng((seed, i))``). Images are simulated independently, in chunks on threads.
    Returns one tonic-style structured array (x, y, t, p) per image, sorted by t.
    """
    images = _check_intensities("images", images, 3, "[N, H, W]")
    width, height = check_sensor(sensor)
    if images.shape[1] > height or images.shape[2] > width:
        raise ValueError(f"images of {images.shape[2]}x{images.shape[1]} (WxH) do not fit on the {width}x{height} sensor")
    eps = check_positive("eps", eps)
    check_rate(noise_rate_hz)
    offsets = saccade_offsets(path, saccade_us, dt_us)
    thresholds = pixel_thresholds((height, width), threshold, threshold_sigma, seed)
    count, image_h, image_w = images.shape

    # origin: the swept region (image plus path extent) centred on the sensor
    low, high = offsets.min(axis=0), offsets.max(axis=0)
    origin_x = (width - image_w - (high[0] - low[0])) / 2 - low[0]
    origin_y = (height - image_h - (high[1] - low[1])) / 2 - low[1]
    # only the window of sensor pixels the image ever reaches can change
    x0 = max(0, int(np.floor(origin_x + low[0])))
    y0 = max(0, int(np.floor(origin_y + low[1])))
    x1 = min(width, int(np.floor(origin_x + high[0])) + image_w + 1)
    y1 = min(height, int(np.floor(origin_y + high[1])) + image_h + 1)
    dx, dy = offsets[:, 0] + origin_x - x0, offsets[:, 1] + origin_y - y0
    shifts = (range(int(np.floor(dy.min())), int(np.floor(dy.max())) + 1), range(int(np.floor(dx.min())), int(np.floor(dx.max())) + 1))
    window_thresholds = np.ascontiguousarray(thresholds[y0:y1, x0:x1])

    def simulate(chunk: np.ndarray) -> list[np.ndarray]:
        canvas = _Canvas(chunk, (y1 - y0, x1 - x0), shifts)
        pixels = _Pixels(canvas.render(dx[0], dy[0]), window_thresholds, eps)
        for step in range(1, len(offsets)):
            pixels.step(canvas.render(dx[step], dy[step]), step)
        image, x, y, t, p = pixels.events(x1 - x0, dt_us, len(offsets) - 1)
        return _split_by_image(len(chunk), image, x + x0, y + y0, t, p)

    # numpy releases the GIL in its loops, so threads over chunks use all cores
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = max(1, min(cores, MAX_WORKERS))
    size = max(1, min(CHUNK, -(-count // workers)))
    chunks = [images[begin : begin + size] for begin in range(0, count, size)]
    workers = min(workers, len(chunks))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            streams = [events for part in pool.map(simulate, chunks) for events in part]
    else:
        streams = [events for chunk in chunks for events in simulate(chunk)]

    duration_us = (len(offsets) - 1) * dt_us
    return [add_background_noise(events, noise_rate_hz, (width, height), duration_us, np.random.default_rng((seed, i))) for i, events in enumerate(streams)]

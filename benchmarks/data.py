#!/usr/bin/env python
"""Frame integration and cached loading speed for a DVS128 Gesture-sized sample.

Usage: ``python benchmarks/data.py [--quick] [--out PATH]``; see benchmarks/README.md.
Measures (1) events integrated per second by Eq. S1 (``events_to_frames``), beside tonic's
``ToFrame`` for context, and (2) samples per second read from the frame cache through a
DataLoader with 2 workers, against reading and integrating the event files each time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

import bench_common as bench

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "data.json"
SENSOR = (128, 128, 2)
DURATION_US = 6_000_000  # a DVS128 Gesture recording lasts about 6 s


def synthetic_events(count: int, seed: int) -> np.ndarray:
    """``count`` events sorted by time on the 128x128 sensor, in tonic's DVSGesture dtype."""
    from tonic.datasets import DVSGesture

    rng = np.random.default_rng(seed)
    events = np.zeros(count, dtype=DVSGesture.dtype)
    events["x"], events["y"] = rng.integers(0, 128, count), rng.integers(0, 128, count)
    events["p"] = rng.integers(0, 2, count).astype(bool)
    events["t"] = np.sort(rng.integers(0, DURATION_US, count)) // 1000 * 1000
    return events


def time_integration(events: np.ndarray, steps: int, repeats: int) -> dict[str, float]:
    """Median seconds of Eq. S1 integration and of tonic's ToFrame(n_event_bins=T) on the same events."""
    import tonic.transforms

    from spikedyn.data import events_to_frames

    ours = [bench.timed(lambda: events_to_frames(events, SENSOR, steps)) for _ in range(repeats)]
    to_frame = tonic.transforms.ToFrame(sensor_size=SENSOR, n_event_bins=steps)
    theirs = [bench.timed(lambda: to_frame(events)) for _ in range(max(1, repeats // 3))]
    return {
        "events": len(events),
        "spikedyn_median_s": statistics.median(ours),
        "spikedyn_events_per_s": len(events) / statistics.median(ours),
        "tonic_ToFrame_median_s": statistics.median(theirs),
        "tonic_ToFrame_events_per_s": len(events) / statistics.median(theirs),
    }


def write_gesture_files(folder: Path, samples: int, count: int) -> None:
    """``samples`` files in tonic's DVSGesture layout (x, y, p, t in ms as an [N, 4] array)."""
    for index in range(samples):
        events = synthetic_events(count, seed=index)
        table = np.stack([events["x"], events["y"], events["p"], events["t"] // 1000], axis=1).astype(np.int64)
        path = folder / "DVSGesture" / "ibmGestureTrain" / f"user{index // 11 + 1:02d}_fluorescent" / f"{index % 11}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, table)


def time_loading(root: Path, steps: int, epochs: int, workers: int, batch: int) -> dict[str, float]:
    """Samples per second of a DataLoader epoch: from the warm frame cache, and integrating without a cache."""
    import torch

    from spikedyn.data import build_dataset

    def epoch_rate(dataset) -> float:
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers, persistent_workers=workers > 0)
        rates = []
        for _ in range(epochs):
            start = time.perf_counter()
            for frames, _labels in loader:
                assert frames.shape[1:] == (steps, 2, 128, 128)
            rates.append(len(dataset) / (time.perf_counter() - start))
        return statistics.median(rates)

    cached = build_dataset("dvs128_gesture", "train", root=str(root), time_steps=steps, val_fraction=0.0)
    start = time.perf_counter()
    built = cached.prepare_cache(num_workers=workers)
    build_s = time.perf_counter() - start
    uncached = build_dataset("dvs128_gesture", "train", root=str(root), time_steps=steps, val_fraction=0.0, cache=False)
    return {
        "samples": len(cached),
        "cache_build_samples_per_s": built / build_s,
        "cached_samples_per_s": epoch_rate(cached),
        "uncached_samples_per_s": epoch_rate(uncached),
        "workers": workers,
        "batch": batch,
    }


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000, help="events per sample (default 300,000)")
    parser.add_argument("--steps", type=int, default=20, help="frames per sample T (default 20)")
    parser.add_argument("--samples", type=int, default=64, help="files in the loading test (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (default 2)")
    parser.add_argument("--quick", action="store_true", help="30,000 events, 8 samples: a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.samples = 30_000, 8
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run both measurements, print them and write the JSON."""
    args = parse_args(argv)
    integration = time_integration(synthetic_events(args.events, seed=0), args.steps, repeats=5 if args.quick else 15)
    with tempfile.TemporaryDirectory() as tmp:
        write_gesture_files(Path(tmp), args.samples, args.events)
        loading = time_loading(Path(tmp), args.steps, epochs=2 if args.quick else 3, workers=args.workers, batch=16)
    data = {"machine": bench.machine_info(args.workers, ("torch", "numpy", "tonic", "spikedyn")), "T": args.steps, "integration": integration, "loading": loading}
    bench.write_json_atomic(args.out, data)
    print(f"Eq. S1 integration, {integration['events']:,} events, T={args.steps}, 128x128x2:")
    print(f"  spikedyn events_to_frames  {integration['spikedyn_median_s'] * 1e3:8.1f} ms  {integration['spikedyn_events_per_s'] / 1e6:6.1f} M events/s")
    print(f"  tonic ToFrame (context)    {integration['tonic_ToFrame_median_s'] * 1e3:8.1f} ms  {integration['tonic_ToFrame_events_per_s'] / 1e6:6.1f} M events/s")
    print(f"Loading {loading['samples']} samples [T={args.steps}, 2, 128, 128], DataLoader batch {loading['batch']}, {loading['workers']} workers:")
    print(f"  from the frame cache       {loading['cached_samples_per_s']:8.1f} samples/s")
    print(f"  reading + integrating      {loading['uncached_samples_per_s']:8.1f} samples/s")
    print(f"  building the cache         {loading['cache_build_samples_per_s']:8.1f} samples/s")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

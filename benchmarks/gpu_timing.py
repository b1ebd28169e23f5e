"""Timing, peak memory and launched kernels of one step on a CUDA device or the CPU, and deadlines.

CUDA steps are timed with CUDA events around each call (the device's time, launch gaps
included); CPU steps with time.perf_counter. Both give one duration per call.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

Step = Callable[[], Any]
KERNEL_NAME_CHARS = 90


@dataclass(frozen=True)
class Deadline:
    """A wall-clock time (time.time(), so it means the same in every process) to stop measuring by."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.time() + seconds)

    def left(self) -> float:
        """Seconds until the deadline (negative once past)."""
        return self.at - time.time()


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def wall_seconds(step: Step, device: torch.device) -> float:
    """Wall-clock seconds of one call, queued device work included (first calls, compilation)."""
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return time.perf_counter() - start


def time_calls(step: Step, device: torch.device, repeats: int, prepare: Step | None = None) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``step``; ``prepare`` runs before each call, untimed."""
    if device.type != "cuda":
        times = []
        for _ in range(repeats):
            if prepare is not None:
                prepare()
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return times
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
    for start, end in events:
        if prepare is not None:
            prepare()
        start.record()
        step()
        end.record()
    torch.cuda.synchronize(device)
    return [start.elapsed_time(end) / 1e3 for start, end in events]


def adaptive_times(
    step: Step, device: torch.device, budget_s: float, min_reps: int, max_reps: int, prepare: Step | None = None
) -> list[float]:
    """Timed calls: as many as fit ``budget_s`` by a first estimate, within [min_reps, max_reps]."""
    estimate = statistics.median(time_calls(step, device, 1, prepare))
    fit = int(budget_s / max(estimate, 1e-6))
    return time_calls(step, device, max(min_reps, min(max_reps, fit)), prepare)


def peak_memory_bytes(step: Step, device: torch.device) -> int | None:
    """Growth of torch.cuda.max_memory_allocated over one call above what was allocated before it.

    None on the CPU, where the caching allocator's counters do not exist.
    """
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def launched_kernels(step: Step, device: torch.device, top: int = 8) -> dict[str, int]:
    """{name: launches} of the GPU kernels one call ran (CPU ops on the CPU), most frequent first.

    This is what tells which implementation actually ran: a Triton kernel, a native CUDA one, or
    the many elementwise kernels of an eager torch loop.
    """
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        step()
        synchronize(device)
    wanted = DeviceType.CUDA if device.type == "cuda" else DeviceType.CPU
    counts = Counter(evt.name[:KERNEL_NAME_CHARS] for evt in prof.events() if evt.device_type == wanted)
    return dict(counts.most_common(top))


def summarize_times(times: list[float]) -> dict[str, Any]:
    """median_s, min_s, repeats and the times themselves."""
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": len(times), "times_s": times}

"""Measurement helpers shared by the benchmark scripts: process memory, CPU contention,
atomic JSON output and a description of the machine."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import gc
import importlib.metadata
import json
import math
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIN_JUDGED_S = 0.25
PACKAGES = ("torch", "numpy", "numba", "spikedyn", "spikingjelly", "loguru", "snntorch", "norse", "nir", "nirtorch")


def tune_allocator() -> bool:
    """spikedyn.runtime.tune_cpu_allocator, or the same mallopt calls where it does not exist."""
    try:
        from spikedyn.runtime import tune_cpu_allocator
    except ImportError:
        libc = _libc()
        if libc is None:
            return False
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 2**31 - 1))
    return tune_cpu_allocator()


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Lower the peak-RSS mark to the current RSS (Linux /proc/self/clear_refs); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def release_free_memory() -> None:
    """Collect garbage and hand free heap pages back to the OS, so the next peak is a real one."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def cpu_counters() -> tuple[float, float, float]:
    """(wall seconds, busy CPU-seconds of the whole machine incl. steal, CPU-seconds of this process)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = math.nan
    own = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), busy, own.ru_utime + own.ru_stime


def other_cpu_percent(before: tuple[float, float, float], after: tuple[float, float, float]) -> float | None:
    """Share of the machine's CPU taken by other processes (or stolen by the hypervisor) in between.

    None under MIN_JUDGED_S of wall time, where /proc/stat's 10 ms ticks are too coarse to tell.
    """
    wall = after[0] - before[0]
    others = (after[1] - before[1]) - (after[2] - before[2])
    if wall < MIN_JUDGED_S or math.isnan(others):
        return None
    return max(0.0, 100.0 * others / (wall * (os.cpu_count() or 1)))


def timed(fn: Callable[[], Any]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def package_version(package: str) -> str | None:
    """The installed version of a distribution, None where it is not installed."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_info(threads: int, packages: tuple[str, ...] = PACKAGES) -> dict[str, Any]:
    """Versions, thread count, CPU and date of this run."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libc": " ".join(platform.libc_ver()),
        "loadavg_at_end": os.getloadavg(),
        "versions": {p: package_version(p) for p in packages},
    }

"""Process-level CPU tuning: keep freed memory for reuse instead of returning it to the OS.

With glibc's defaults, every tensor above 32 MiB is a fresh mmap: the kernel must fault in
and zero every page again on each forward pass, which on small machines costs more than the
arithmetic (measured here: 36 ms to allocate and fill 64 MiB, 3 ms to refill an existing
buffer). :func:`tune_cpu_allocator` raises the mmap and trim thresholds so freed blocks are
reused. It changes the whole process, so the library never calls it on import; the
``spikedyn`` command and the benchmarks do.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def tune_cpu_allocator(mmap_threshold: int = 1 << 30, trim_threshold: int = (1 << 31) - 1) -> bool:
    """Make glibc reuse freed large blocks; returns False where glibc's mallopt is unavailable."""
    global _applied
    if _applied:
        return True
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    return _applied

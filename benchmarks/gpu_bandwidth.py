"""Memory traffic of a neuron layer's forward+backward, the device's HBM peak, and a measured copy.

Byte model (one for every contender, so that GB/s compares speeds and never rewards a
contender for moving more bytes than it needs): a fused multi-step neuron that keeps the
charged potential H for the closed-form backward moves at least

    forward:  read x, write spikes, write H          3 arrays of T*B*N elements
    backward: read dL/dspikes, read H, write dL/dx    3 arrays

all in the input's dtype (H kept at the input's precision is the least a kernel can keep), plus
3 x the parameters' bytes (read in forward and backward, gradient written). Effective bandwidth
= those bytes / measured time. A kernel that recomputes H from x in the backward could move 5
arrays instead of 6, so > 100 % of the model's bound is possible in principle, not a bug.
"""

from __future__ import annotations

import re
import statistics

import torch

from gpu_timing import time_calls

ARRAYS_MOVED = 6
#: Vendor datasheet HBM bandwidth in TB/s, matched in order against torch.cuda.get_device_name.
HBM_PEAK_TBPS: tuple[tuple[str, float], ...] = (
    (r"\bH200\b", 4.8),
    (r"\bH100\b.*\bPCIe\b", 2.0),
    (r"\bH100\b.*\bNVL\b", 3.9),
    (r"\bH100\b", 3.35),  # the SXM part, named 'NVIDIA H100 80GB HBM3'
)
BYTE_MODEL = (
    "6 arrays of T*B*N elements in the input dtype (forward: read x, write spikes, write H; "
    "backward: read dL/dspikes, read H, write dL/dx) + 3 x parameter bytes; the same model for every contender"
)


def neuron_traffic_bytes(steps: int, batch: int, neurons: int, element_size: int, parameter_bytes: int) -> int:
    """Least bytes a fused forward+backward that keeps H moves (the module docstring's model)."""
    return ARRAYS_MOVED * steps * batch * neurons * element_size + 3 * parameter_bytes


def hbm_peak_bytes_per_s(device_name: str) -> float | None:
    """The datasheet HBM bandwidth of a known device, in bytes/s; None for any other device."""
    for pattern, tbps in HBM_PEAK_TBPS:
        if re.search(pattern, device_name):
            return tbps * 1e12
    return None


def copy_bandwidth(device: torch.device, nbytes: int, repeats: int = 10) -> dict[str, float]:
    """Device-to-device copy of an ``nbytes`` buffer: median seconds and bytes/s, counting read + write."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    time_calls(lambda: dst.copy_(src), device, 3)
    median = statistics.median(time_calls(lambda: dst.copy_(src), device, repeats))
    moved = 2 * src.numel() * src.element_size()
    return {"bytes_moved": moved, "median_s": median, "bytes_per_s": moved / median}

"""Fresh kernel outputs are advised as transparent huge pages on Linux."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from spikedyn.neurons.backends.buffers import fresh_like

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _vm_flags_at(address: int) -> list[str]:
    region = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            low, high = (int(v, 16) for v in head.split("-"))
            region = low <= address < high
        elif head == "VmFlags:" and region:
            return line.split()[1:]
    raise AssertionError(f"no mapping holds address {address:#x}")


def test_fresh_like_has_the_shape_dtype_and_rows_asked_for():
    t = torch.zeros(4, 3, dtype=torch.float64)
    assert fresh_like(t).shape == (4, 3) and fresh_like(t).dtype == torch.float64
    assert fresh_like(t, rows=1).shape == (1, 3)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not THP.exists() or "[never]" in THP.read_text(),
                    reason="needs Linux with transparent huge pages")  # fmt: skip
def test_large_fresh_buffers_are_advised_as_huge_pages():
    t = fresh_like(torch.empty(16, 1 << 20))
    assert "hg" in _vm_flags_at(t.data_ptr() + (8 << 20))

"""Kernel outputs: reused from the pool once nothing holds them, else fresh and advised as huge pages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from spikedyn.neurons.backends.buffers import POOL, BufferPool, fresh_like, set_buffer_pool_limit

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
    t = BufferPool(limit=0).empty((16, 1 << 20), torch.float32)
    assert "hg" in _vm_flags_at(t.data_ptr() + (8 << 20))


def test_a_pooled_buffer_is_reused_only_once_nothing_holds_it():
    pool = BufferPool(limit=64 << 20)
    first = pool.empty((4, 1 << 18), torch.float32)  # 4 MiB
    address = first.data_ptr()
    view, array = first[1:], first.numpy()
    del first
    second = pool.empty((4, 1 << 18), torch.float32)
    assert second.data_ptr() != address, "a view and a numpy array still hold the first buffer"
    del view, second
    assert pool.empty((4, 1 << 18), torch.float32).data_ptr() != address, "the numpy array still holds it"
    del array
    again = pool.empty((1 << 20,), torch.float32)
    assert again.data_ptr() == address and again.shape == (1 << 20,)


def test_a_saved_activation_keeps_its_buffer_out_of_the_pool():
    pool = BufferPool(limit=64 << 20)
    h = pool.empty((1 << 20,), torch.float32).fill_(2.0)
    a = torch.ones(1 << 20, requires_grad=True)
    y = (a * h).sum()  # autograd saves h
    address = h.data_ptr()
    del h
    assert pool.empty((1 << 20,), torch.float32).data_ptr() != address
    y.backward()
    assert torch.equal(a.grad, torch.full((1 << 20,), 2.0))


def test_the_pool_keeps_at_most_its_limit_and_small_buffers_stay_out():
    pool = BufferPool(limit=8 << 20)
    held = [pool.empty((1 << 20,), torch.float32) for _ in range(3)]  # 3 x 4 MiB, in use
    assert pool.pooled_bytes <= 8 << 20
    small = pool.empty((16,), torch.float32)
    assert pool.pooled_bytes <= 8 << 20 and small.numel() == 16
    del held
    pool.empty((1 << 21,), torch.float32)  # 8 MiB: the free 4 MiB ones make room
    assert pool.pooled_bytes == 8 << 20


def test_a_zero_limit_turns_reuse_off_and_bad_limits_are_refused():
    previous = POOL.limit
    try:
        set_buffer_pool_limit(0)
        fresh_like(torch.empty(1 << 20))
        assert POOL.pooled_bytes == 0
        with pytest.raises(ValueError, match="bytes >= 0"):
            set_buffer_pool_limit(-1)
    finally:
        set_buffer_pool_limit(previous)

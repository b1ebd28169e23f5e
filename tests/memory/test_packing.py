"""Packed storages restore bit for bit, in the bytes they should take, through views of any geometry."""

from __future__ import annotations

import pytest
import torch

from spikedyn.memory import bit_kernels
from spikedyn.memory.packing import BINARY, Levels, PackedStorage, PackedView, is_power_of_two
from tests.memory.helpers import bits_size

SIZES = (1, 7, 8, 9, 1000, 4099)
DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def _spikes(n: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=generator) < 0.3).to(dtype)


@pytest.fixture(params=["numba", "torch"])
def path(request, monkeypatch):
    """Each test runs with the numba loops (float32/64 on the CPU) and with the torch ops every device uses."""
    if request.param == "torch":
        monkeypatch.setattr(bit_kernels, "AVAILABLE", False)
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_bits_restore_exactly_in_an_eighth_of_a_byte_each(n, dtype, path):
    """0/1 values come back equal bit for bit; n float32 spikes take ceil(n/8) bytes, 1/32 of their size."""
    spikes = _spikes(n, dtype)
    packed = PackedStorage(spikes, BINARY, bits=True)
    assert packed.nbytes == bits_size(n)
    restored = packed.restore()
    assert restored.dtype == dtype and torch.equal(restored, spikes)
    assert not torch.signbit(restored).any()  # zeros come back as +0.0, as the neurons write them


@pytest.mark.parametrize("levels", [Levels(1, 1.0), Levels(2, 1.0), Levels(4, 0.25), Levels(255, 2.0), Levels(16, 1 / 16)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_levels_restore_exactly_in_one_byte_each(levels, dtype, path):
    """k * scale for integers k in [0, count]: one byte per element, exact in every floating dtype."""
    generator = torch.Generator().manual_seed(1)
    values = torch.randint(0, levels.count + 1, (1001,), generator=generator).to(dtype) * levels.scale
    packed = PackedStorage(values, levels, bits=False)
    assert packed.nbytes == values.numel()
    assert torch.equal(packed.restore(), values)


def test_bits_are_used_for_binary_levels_only():
    """A storage with more than two levels never goes to bits, whatever was asked."""
    assert PackedStorage(torch.zeros(16), Levels(2), bits=True).nbytes == 16


def test_views_come_back_with_their_size_strides_and_offset(path):
    """Transposes, slices and broadcasts of a packed storage restore as the same views of the same values."""
    base = _spikes(4 * 3 * 5, torch.float32).view(4, 3, 5)
    packed = PackedStorage(base.view(-1), BINARY, bits=True)
    views = [base, base.transpose(0, 2), base[1:, :, ::2], base[2], base[:1].expand(6, 3, 5), base.view(-1)[7:]]
    for view in views:
        restored = PackedView(packed, view).restore()
        assert restored.shape == view.shape and restored.stride() == view.stride() and restored.storage_offset() == view.storage_offset()
        assert torch.equal(restored, view)


def test_levels_accept_only_exact_scales_and_byte_counts():
    """Scales must be powers of two (k * scale exact) and counts fit a byte."""
    assert is_power_of_two(0.25) and is_power_of_two(8.0) and not is_power_of_two(1.5) and not is_power_of_two(0.0)
    with pytest.raises(ValueError, match="power of two"):
        Levels(1, 4 / 3)
    with pytest.raises(ValueError, match="count"):
        Levels(256)
    with pytest.raises(ValueError, match="flat contiguous"):
        PackedStorage(torch.zeros(2, 2), BINARY, bits=True)

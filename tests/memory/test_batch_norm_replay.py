"""The statistics-free BN recomputation gives the training-mode output bit for bit, or is not used."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from spikedyn.memory import batch_norm_replay as replay


def _batch(shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    channels = shape[1]
    scale = torch.rand(channels, generator=generator, dtype=torch.float64).to(dtype) * 10
    x = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype) * scale.view(1, -1, *[1] * (len(shape) - 2)) + 1
    weight, bias = torch.randn(channels, generator=generator, dtype=torch.float64).to(dtype), torch.randn(channels, generator=generator, dtype=torch.float64).to(dtype)
    return x, weight, bias


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(8, 64, 9, 9), (4, 3, 17), (2, 200, 5, 5), (6, 32)])
@pytest.mark.parametrize("seed", [0, 1])
def test_replay_matches_the_training_forward(shape, dtype, seed):
    """From save_mean and save_invstd alone: equal to native training BN, also with channels forced to the subset path."""
    x, weight, bias = _batch(shape, dtype, seed)
    y, mean, invstd = torch.native_batch_norm(x, weight, bias, None, None, True, 0.1, 1e-5)
    assert torch.equal(replay.replay(x, weight, bias, (mean, invstd), 1e-5), y)
    assert torch.equal(replay.replay(x, weight, bias, (mean, invstd), 1e-5, force_channels=shape[1] // 2), y)
    assert torch.equal(replay.replay(x, None, None, tuple(torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[1:]), 1e-5),
                       F.batch_norm(x, None, None, None, None, True, 0.0, 1e-5))  # fmt: skip


def test_most_channels_find_a_matching_variance():
    """Eval mode's rsqrt(var + eps) reaches most invstd values within two ulps; the rest go to training mode."""
    invstd = torch.rand(10000, generator=torch.Generator().manual_seed(0)) * 10 + 0.01
    var, found = replay.matching_variance(invstd, 1e-5)
    assert found.float().mean() > 0.8
    assert torch.equal(torch.rsqrt(var[found] + torch.tensor(1e-5)), invstd[found])


def test_a_replay_that_differs_is_never_used():
    """The check compares with the real output: a mismatch turns the replay off for that kind of call, once."""
    x, weight, bias = _batch((4, 8, 6, 6), torch.float32, 0)
    y = F.batch_norm(x, None, None, weight, bias, True, 0.0, 1e-5)
    key = ("test", *replay.signature(x, weight, bias))
    assert not replay.verified(key, lambda: y + 1e-3, y)
    assert not replay.verified(key, lambda: y, y)  # decided once per kind of call
    assert replay.verified(("other", *key), lambda: y.clone(), y)


def test_only_large_cpu_float_calls_are_replayed(monkeypatch):
    """GPU tensors, half precision, missing statistics and small inputs take the plain path."""
    x, weight, _ = _batch((4, 8, 6, 6), torch.float32, 0)
    stats = (torch.zeros(8), torch.ones(8))
    assert replay.applies(x, weight, stats)
    assert not replay.applies(x, weight, None) and not replay.applies(x.half(), weight.half(), tuple(s.half() for s in stats))
    monkeypatch.setattr(replay, "MIN_ELEMENTS", 1 << 18)
    assert not replay.applies(x, weight, stats)

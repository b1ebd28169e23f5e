import pytest
import torch
from torch import nn

from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d, TimeDistributed, VotingLayer, spike_pool


def test_time_distributed_conv_equals_a_loop_over_steps():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = torch.randn(4, 5, 2, 6, 6)
    y = TimeDistributed(conv)(x)
    assert y.shape == (4, 5, 3, 6, 6)
    torch.testing.assert_close(y, torch.stack([conv(x[t]) for t in range(4)]))


def test_time_distributed_batchnorm_takes_statistics_over_all_steps_and_samples():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 2, 5, 5) * 2 + 1
    layer = TimeDistributed(nn.BatchNorm2d(2, momentum=1.0))
    y = layer(x)
    torch.testing.assert_close(layer.layer.running_mean, x.mean(dim=(0, 1, 3, 4)))
    torch.testing.assert_close(y.mean(dim=(0, 1, 3, 4)), torch.zeros(2), atol=1e-6, rtol=0)


def test_several_layers_are_chained_in_order():
    torch.manual_seed(0)
    conv, flat = nn.Conv2d(1, 2, 3), nn.Flatten()
    x = torch.randn(2, 3, 1, 5, 5)
    y = TimeDistributed(conv, flat)(x)
    assert y.shape == (2, 3, 2 * 3 * 3)
    torch.testing.assert_close(y[1, 2], conv(x[1, 2:3]).flatten())


@pytest.mark.parametrize("bad", [torch.zeros(4, 3), torch.zeros(5)])
def test_time_distributed_rejects_input_without_time_and_batch(bad):
    with pytest.raises(ValueError, match=r"\[T, B, \.\.\.\]"):
        TimeDistributed(nn.Flatten())(bad)


def test_time_distributed_needs_a_layer():
    with pytest.raises(ValueError, match="at least one layer"):
        TimeDistributed()


def test_spike_max_pool_keeps_spikes_binary_and_pools_each_step():
    torch.manual_seed(0)
    spikes = (torch.rand(3, 2, 4, 6, 6) > 0.7).float()
    pooled = SpikeMaxPool2d(2, 2)(spikes)
    assert pooled.shape == (3, 2, 4, 3, 3)
    assert set(pooled.unique().tolist()) <= {0.0, 1.0}
    expected = spikes.unflatten(-1, (3, 2)).unflatten(-3, (3, 2)).amax(dim=(-1, -3))
    torch.testing.assert_close(pooled, expected)


def test_spike_avg_pool_gives_window_fractions():
    spikes = torch.zeros(1, 1, 1, 2, 2)
    spikes[..., 0, 0] = 1
    spikes[..., 1, 1] = 1
    assert SpikeAvgPool2d(2, 2)(spikes).item() == 0.5


def test_spike_pool_selects_by_name_and_rejects_unknown_kinds():
    assert isinstance(spike_pool("max"), SpikeMaxPool2d)
    assert isinstance(spike_pool("avg"), SpikeAvgPool2d)
    with pytest.raises(ValueError, match=r"pooling='median'.*\['max', 'avg'\]"):
        spike_pool("median")


def test_voting_equals_the_mean_of_each_class_group():
    torch.manual_seed(0)
    x = torch.rand(3, 2, 40)
    votes = VotingLayer(10)(x)
    assert votes.shape == (3, 2, 4)
    for c in range(4):
        torch.testing.assert_close(votes[..., c], x[..., c * 10 : (c + 1) * 10].mean(-1))
    pooled = nn.functional.avg_pool1d(x.flatten(0, 1).unsqueeze(1), 10, 10).squeeze(1).unflatten(0, (3, 2))
    torch.testing.assert_close(votes, pooled)


def test_voting_rejects_a_width_that_is_not_a_multiple_of_the_group():
    with pytest.raises(ValueError, match="multiple of 10"):
        VotingLayer(10)(torch.zeros(2, 3, 25))
    with pytest.raises(ValueError, match="positive int"):
        VotingLayer(0)

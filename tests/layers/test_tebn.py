import pytest
import torch
from torch import nn

from spikedyn.layers import TemporalEffectiveBatchNorm2d


def test_tebn_is_batchnorm_over_all_steps_times_a_scale_per_step():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 2, 5, 5) * 3 + 2
    tebn = TemporalEffectiveBatchNorm2d(2, time_steps=3)
    with torch.no_grad():
        tebn.time_scale.copy_(torch.tensor([0.5, 1.0, 2.0]))
        tebn.weight.copy_(torch.tensor([1.5, -1.0]))
    bn = nn.BatchNorm2d(2)
    bn.load_state_dict({k: v for k, v in tebn.state_dict().items() if k != "time_scale"})
    expected = bn(x.flatten(0, 1)).unflatten(0, (3, 4)) * torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1, 1, 1)
    torch.testing.assert_close(tebn(x), expected)
    torch.testing.assert_close(tebn.running_mean, bn.running_mean)


def test_every_step_scale_learns():
    tebn = TemporalEffectiveBatchNorm2d(2, time_steps=4)
    (tebn(torch.randn(4, 3, 2, 3, 3)) * torch.arange(4.0).view(4, 1, 1, 1, 1)).sum().backward()
    assert tebn.time_scale.grad is not None and tebn.time_scale.grad.shape == (4,)


def test_tebn_names_the_steps_it_was_built_for():
    with pytest.raises(ValueError, match="built for T=4 steps, got T=3"):
        TemporalEffectiveBatchNorm2d(2, time_steps=4)(torch.randn(3, 2, 2, 3, 3))
    with pytest.raises(ValueError, match="positive int"):
        TemporalEffectiveBatchNorm2d(2, time_steps=0)

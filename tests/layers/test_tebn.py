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
    # A loss weighting step t by t gave step 0 a gradient of exactly 0, and a plain sum of a BN output is ~0 per channel:
    # a squared error against a target reaches every step's scale through BN(x_t), which differs from step to step.
    torch.manual_seed(0)
    tebn = TemporalEffectiveBatchNorm2d(2, time_steps=4)
    x, target = torch.randn(4, 3, 2, 3, 3), torch.randn(4, 3, 2, 3, 3)
    normalised = nn.functional.batch_norm(x.flatten(0, 1), None, None, training=True).unflatten(0, (4, 3))
    ((tebn(x) - target) ** 2).sum().backward()
    expected = (2 * (normalised - target) * normalised).sum(dim=(1, 2, 3, 4))  # d/dp_t of sum (p_t BN(x_t) - target_t)^2 at p = 1
    torch.testing.assert_close(tebn.time_scale.grad, expected)
    assert torch.all(expected.abs() > 1e-3), expected
    before = tebn.time_scale.detach().clone()
    torch.optim.SGD(tebn.parameters(), lr=0.01).step()
    assert torch.all(tebn.time_scale != before), (before, tebn.time_scale)


def test_tebn_names_the_steps_it_was_built_for():
    with pytest.raises(ValueError, match="built for T=4 steps, got T=3"):
        TemporalEffectiveBatchNorm2d(2, time_steps=4)(torch.randn(3, 2, 2, 3, 3))
    with pytest.raises(ValueError, match="positive int"):
        TemporalEffectiveBatchNorm2d(2, time_steps=0)

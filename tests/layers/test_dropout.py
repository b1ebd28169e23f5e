import pytest
import torch

from spikedyn.layers import TemporalDropout


def _kept(p: float, shared: bool = True) -> torch.Tensor:
    torch.manual_seed(0)
    layer = TemporalDropout(p, shared_over_time=shared).train()
    return layer(torch.ones(6, 16, 50))


def test_the_mask_is_constant_over_time():
    kept = _kept(0.5)
    assert torch.equal(kept, kept[:1].expand_as(kept))


def test_the_mask_differs_across_samples_and_features():
    kept = _kept(0.5)[0]
    assert not all(torch.equal(kept[0], kept[b]) for b in range(1, 16))
    assert 0 < (kept == 0).sum() < kept.numel()


def test_kept_values_are_scaled_to_keep_the_expectation():
    kept = _kept(0.25)
    values = kept.unique()
    assert len(values) == 2 and values[0] == 0.0
    assert values[1].item() == pytest.approx(1.0 / 0.75)


def test_per_step_masks_differ_over_time_when_asked():
    kept = _kept(0.5, shared=False)
    assert not torch.equal(kept[0], kept[1])


def test_evaluation_and_zero_probability_pass_the_input_through():
    x = torch.randn(3, 4, 5)
    assert TemporalDropout(0.5).eval()(x) is x
    assert TemporalDropout(0.0).train()(x) is x


def test_gradient_is_masked_like_the_forward():
    torch.manual_seed(1)
    x = torch.randn(4, 8, 10, requires_grad=True)
    y = TemporalDropout(0.5).train()(x)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y != 0).float() * 2.0)


@pytest.mark.parametrize("p", [-0.1, 1.0, "0.5", True])
def test_bad_probability_is_rejected(p):
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        TemporalDropout(p)

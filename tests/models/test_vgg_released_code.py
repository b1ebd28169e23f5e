"""vgg11_imp is the IMP authors' released 48x48 VGG-11: layout, TEBN, pooling, dropout, initialisation."""

import math
from functools import partial

import pytest
import torch
from torch import nn

from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d, TemporalEffectiveBatchNorm2d
from spikedyn.models import build_model, imp_paper_neuron
from spikedyn.neurons import BaseNeuron
from tests.models.imp_vgg_reference import StateLIF, TEBNLayer, released_vgg11_48

SMALL = dict(input_size=16, time_steps=2)


def _convs(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


def _ours_in_release_order(model: nn.Module):
    """Per layer: conv weight, bias, BN weight, bias, step scales, IMP; then the linear layer."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            yield from (module.weight, module.bias)
        elif isinstance(module, TemporalEffectiveBatchNorm2d):
            yield from (module.weight, module.bias, module.time_scale)
        elif isinstance(module, BaseNeuron):
            yield module.imp
        elif isinstance(module, nn.Linear):
            yield from (module.weight, module.bias)


def _released_tensors(model: nn.Sequential):
    """The released model's tensors in the order of :func:`_ours_in_release_order`."""
    for layer in model:
        if isinstance(layer, TEBNLayer):
            conv, bn = layer.conv.layers[0], layer.bn.layers[0]
            yield from (conv.weight, conv.bias, bn.weight, bn.bias, layer.te)
        elif isinstance(layer, StateLIF):
            yield layer.mem
    linear = model[-1].layers[1]
    yield from (linear.weight, linear.bias)


def test_vgg11_imp_computes_what_the_released_model_computes():
    """Same weights, same frames: same outputs and gradients (with the released code's undetached reset)."""
    torch.manual_seed(0)
    ours = build_model("vgg11_imp", neuron=partial(imp_paper_neuron, imp="neuron", detach_reset=False), time_steps=2, dropout=0.0).double()
    theirs = released_vgg11_48(time_steps=2).double()
    theirs[-1].layers[0].p = 0.0
    mine, other = list(_ours_in_release_order(ours)), list(_released_tensors(theirs))
    assert len(mine) == len(other) == len(list(theirs.parameters()))
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    with torch.no_grad():
        for a, b in zip(mine, other):
            b.copy_(a.view_as(b))
    x = torch.rand(2, 3, 2, 48, 48, dtype=torch.float64)
    y_ours, y_theirs = ours(x), theirs(x)
    torch.testing.assert_close(y_ours, y_theirs)
    g = torch.randn_like(y_ours)
    y_ours.backward(g)
    y_theirs.backward(g)
    for a, b in zip(mine, other):
        torch.testing.assert_close(a.grad.view_as(b), b.grad)


def test_tebn_has_one_scale_per_step_starting_at_one_and_pooling_averages_spikes():
    model = build_model("vgg11_imp", input_size=16, time_steps=4)
    tebns = [m for m in model.modules() if isinstance(m, TemporalEffectiveBatchNorm2d)]
    assert len(tebns) == 8
    assert all(t.time_scale.shape == (4,) and torch.all(t.time_scale == 1) for t in tebns)
    pools = [type(m) for m in model.modules() if isinstance(m, (SpikeAvgPool2d, SpikeMaxPool2d))]
    assert pools == [SpikeAvgPool2d] * 4


def _classifier_over_steps(shared: bool | None) -> torch.Tensor:
    """The classifier in training, fed the same features at each of 3 steps."""
    options = {} if shared is None else {"dropout_shared_over_time": shared}
    torch.manual_seed(0)
    model = build_model("vgg11_imp", **SMALL, **options).train()
    return model.classifier(torch.ones(3, 4, 512, 1, 1))


def test_the_dropout_mask_is_drawn_per_step_by_default():
    y = _classifier_over_steps(None)
    assert not torch.equal(y[0], y[1]) and not torch.equal(y[1], y[2])


def test_a_shared_dropout_mask_is_an_option():
    y = _classifier_over_steps(True)
    assert torch.equal(y[0], y[1]) and torch.equal(y[1], y[2])


def test_conv_weights_start_kaiming_normal_fan_out():
    model = build_model("vgg11_imp", **SMALL)
    for conv in _convs(model):
        n = conv.weight.numel()
        expected = math.sqrt(2.0 / (conv.out_channels * 9))
        assert abs(conv.weight.std().item() / expected - 1) < 5 / math.sqrt(2 * n)
        assert abs(conv.weight.mean().item()) < 5 * expected / math.sqrt(n)


def test_the_default_init_keeps_pytorchs_conv_weights():
    model = build_model("vgg11_imp", **SMALL, init="default")
    for conv in _convs(model):
        fan_in = conv.in_channels * 9
        assert conv.weight.abs().max() <= 1 / math.sqrt(fan_in)
        n = conv.weight.numel()
        assert abs(conv.weight.std().item() * math.sqrt(3 * fan_in) - 1) < 5 / math.sqrt(2 * n)


def test_only_conv_weights_depend_on_the_init():
    """Conv biases, BN, TEBN scales and the linear layer keep PyTorch's defaults either way."""
    built = []
    for init in ("kaiming_fan_out", "default"):
        torch.manual_seed(0)
        built.append(build_model("vgg11_imp", **SMALL, init=init))
    kaiming, default = (dict(model.named_parameters()) for model in built)
    conv_weights = {name for name, p in kaiming.items() if p.dim() == 4}
    assert len(conv_weights) == 8
    for name in kaiming:
        assert torch.equal(kaiming[name], default[name]) != (name in conv_weights), name
    assert all(torch.count_nonzero(conv.bias) > 0 for conv in _convs(built[0]))


def test_an_unknown_init_is_named():
    with pytest.raises(ValueError, match="init='xavier'"):
        build_model("vgg11_imp", **SMALL, init="xavier")

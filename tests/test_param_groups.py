"""Parameter groups: every trainable parameter in exactly one role, and the groups drive torch.optim."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikedyn.losses import TauClusteringRegulariser
from spikedyn.neurons import PLIF
from spikedyn.param_groups import parameter_groups, split_parameters


class SmallNet(nn.Module):
    """conv (with bias) -> batch norm -> per-neuron PLIF with IMP -> linear (no bias), over [T, B, 2, 3, 3]."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(4)
        self.plif = PLIF(2.0, shape=(4, 3, 3), tau_shape="neuron", tau_init="lognormal", tau_std=1.0, imp="neuron")
        self.fc = nn.Linear(36, 5, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch = x.shape[:2]
        h = self.bn(self.conv(x.flatten(0, 1))).reshape(steps, batch, 4, 3, 3)
        return self.fc(self.plif(h).flatten(2))


class StepScaledBatchNorm(nn.BatchNorm2d):
    """Stands in for TEBN: a BatchNorm2d subclass with an extra per-step scale."""

    def __init__(self, channels: int, steps: int) -> None:
        super().__init__(channels)
        self.step_scale = nn.Parameter(torch.ones(steps))


def ids(params) -> list[int]:
    return [id(p) for p in params]


def net() -> SmallNet:
    torch.manual_seed(0)
    return SmallNet()


def test_each_parameter_lands_in_its_role():
    model = net()
    groups = split_parameters(model)
    assert ids(groups["weights"]) == ids([model.conv.weight, model.fc.weight])
    assert ids(groups["tau"]) == ids([model.plif.tau_logit])
    assert ids(groups["imp"]) == ids([model.plif.imp])
    assert ids(groups["norm_bias"]) == ids([model.conv.bias, model.bn.weight, model.bn.bias])


def test_every_parameter_appears_exactly_once():
    model = net()
    everything = [p for params in split_parameters(model).values() for p in params]
    assert len(everything) == len(set(ids(everything))) == len(list(model.parameters())) == 7
    assert set(ids(everything)) == set(ids(model.parameters()))


def test_shared_parameters_count_once_and_frozen_ones_are_left_out():
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight
    frozen = nn.Linear(3, 2)
    frozen.weight.requires_grad_(False)
    groups = split_parameters(nn.Sequential(first, second, frozen))
    assert ids(groups["weights"]) == ids([first.weight])
    assert ids(groups["norm_bias"]) == ids([first.bias, second.bias, frozen.bias])


def test_every_normalisation_module_and_a_batchnorm_subclass_go_to_norm_bias():
    tebn, layer_norm, group_norm = StepScaledBatchNorm(4, steps=3), nn.LayerNorm(5), nn.GroupNorm(2, 4)
    groups = split_parameters(nn.Sequential(tebn, layer_norm, group_norm, nn.BatchNorm1d(2, affine=False)))
    expected = [tebn.weight, tebn.bias, tebn.step_scale, layer_norm.weight, layer_norm.bias]
    assert ids(groups["norm_bias"]) == ids(expected + [group_norm.weight, group_norm.bias])
    assert groups["weights"] == groups["tau"] == groups["imp"] == []


def test_any_parameter_named_bias_counts_as_a_bias():
    attention = nn.MultiheadAttention(4, 2)
    groups = split_parameters(attention)
    assert id(attention.in_proj_bias) in ids(groups["norm_bias"])
    assert id(attention.in_proj_weight) in ids(groups["weights"])


def group_by_name(groups: list[dict]) -> dict[str, dict]:
    return {group["name"]: group for group in groups}


def test_groups_carry_their_own_learning_rates_and_weight_decay():
    model = net()
    groups = group_by_name(
        parameter_groups(
            model, lr=0.1, weight_decay=1e-4, tau_lr=0.01, imp_lr=0.02, tau_weight_decay=1e-5, imp_weight_decay=1e-6
        )
    )
    assert list(groups) == ["weights", "tau", "imp", "norm_bias"]
    assert (groups["weights"]["lr"], groups["weights"]["weight_decay"]) == (0.1, 1e-4)
    assert (groups["tau"]["lr"], groups["tau"]["weight_decay"]) == (0.01, 1e-5)
    assert (groups["imp"]["lr"], groups["imp"]["weight_decay"]) == (0.02, 1e-6)
    assert (groups["norm_bias"]["lr"], groups["norm_bias"]["weight_decay"]) == (0.1, 0.0)
    assert ids(groups["tau"]["params"]) == ids([model.plif.tau_logit])


def test_tau_and_imp_default_to_the_main_learning_rate_and_empty_groups_are_left_out():
    groups = group_by_name(parameter_groups(net(), lr=0.3))
    assert groups["tau"]["lr"] == groups["imp"]["lr"] == 0.3
    only_weights = parameter_groups(nn.Linear(3, 2, bias=False), lr=0.3)
    assert [group["name"] for group in only_weights] == ["weights"]


def test_adamw_decays_only_the_groups_given_weight_decay():
    model = net()
    optimiser = torch.optim.AdamW(parameter_groups(model, lr=0.1, weight_decay=0.5), lr=0.1)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # Adam's own step is then zero: only the decoupled decay moves anything
    optimiser.step()
    for name, p in model.named_parameters():
        factor = 1 - 0.1 * 0.5 if name in ("conv.weight", "fc.weight") else 1.0
        torch.testing.assert_close(p.detach(), before[name] * factor, msg=name)


def test_an_optimiser_step_on_a_real_loss_moves_the_weights_and_the_taus():
    model = net()
    optimiser = torch.optim.AdamW(parameter_groups(model, lr=1e-2, tau_lr=1e-1), lr=1e-2)
    tau_before = model.plif.tau_logit.detach().clone()
    weight_before = model.fc.weight.detach().clone()
    x = torch.randn(3, 2, 2, 3, 3, generator=torch.Generator().manual_seed(1)) + 1.0
    model(x).square().mean().backward()
    optimiser.step()
    assert not torch.equal(model.plif.tau_logit.detach(), tau_before)
    assert not torch.equal(model.fc.weight.detach(), weight_before)


def test_tau_lr_per_layer_gives_each_plif_layer_the_lr_of_its_tau_count():
    neuron_wise = PLIF(2.0, shape=(4, 3, 3), tau_shape="neuron")
    channel_wise = PLIF(2.0, shape=(4, 3, 3), tau_shape="channel")
    layer_wise = PLIF(2.0)
    model = nn.Sequential(neuron_wise, nn.Sequential(channel_wise, layer_wise))
    groups = parameter_groups(model, lr=1.0, tau_weight_decay=0.0, tau_lr_per_layer=lambda count: 0.36 / count)
    by_name = group_by_name(groups)
    assert list(by_name) == ["tau:0", "tau:1.0", "tau:1.1"]
    assert by_name["tau:0"]["lr"] == pytest.approx(0.01)  # 36 taus
    assert by_name["tau:1.0"]["lr"] == pytest.approx(0.09)  # 4 taus
    assert by_name["tau:1.1"]["lr"] == pytest.approx(0.36)  # 1 tau
    assert ids(by_name["tau:1.0"]["params"]) == ids([channel_wise.tau_logit])
    torch.optim.SGD(groups, lr=1.0)  # torch accepts the groups as they are


def test_extra_tau_parameters_join_the_tau_group_once():
    model = net()
    regulariser = TauClusteringRegulariser(model, num_centres=2, lam=1.0)
    groups = group_by_name(
        parameter_groups(model, lr=0.1, tau_lr=0.01, extra_tau_parameters=regulariser.parameters())
    )
    assert ids(groups["tau"]["params"]) == ids([model.plif.tau_logit, *regulariser.parameters()])
    # Even when the regulariser lives inside the model, its centres are in tau only, never in weights too.
    model.regulariser = regulariser
    groups = parameter_groups(model, lr=0.1, extra_tau_parameters=regulariser.parameters())
    torch.optim.Adam(groups)
    tau_group = group_by_name(groups)["tau"]
    assert ids(tau_group["params"]) == ids([model.plif.tau_logit, *regulariser.parameters()])
    centres = list(regulariser.parameters())
    per_layer = group_by_name(
        parameter_groups(model, lr=0.1, tau_lr=0.05, tau_lr_per_layer=lambda n: 0.1, extra_tau_parameters=centres)
    )
    assert ids(per_layer["tau:plif"]["params"]) == ids([model.plif.tau_logit])
    assert ids(per_layer["tau"]["params"]) == ids(regulariser.parameters()) and per_layer["tau"]["lr"] == 0.05


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"lr": -0.1}, ValueError, "lr"),
        ({"lr": 0.1, "tau_lr": float("nan")}, ValueError, "tau_lr"),
        ({"lr": 0.1, "weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"lr": 0.1, "tau_lr_per_layer": 0.5}, TypeError, "tau_lr_per_layer"),
        ({"lr": 0.1, "tau_lr_per_layer": lambda count: -1.0}, ValueError, r"tau_lr_per_layer\(36\).*'plif'"),
        ({"lr": 0.1, "extra_tau_parameters": [1.0]}, TypeError, "extra_tau_parameters"),
    ],
)
def test_bad_settings_are_refused(options, error, match):
    with pytest.raises(error, match=match):
        parameter_groups(net(), **options)


def test_split_parameters_wants_a_module():
    with pytest.raises(TypeError, match="nn.Module"):
        split_parameters([nn.Parameter(torch.zeros(1))])


def test_the_real_tebn_scale_and_every_vgg_parameter_land_in_one_group():
    from spikedyn.layers import TemporalEffectiveBatchNorm2d
    from spikedyn.models import build_model

    model = build_model("vgg11_imp", input_size=16, time_steps=2)
    groups = split_parameters(model)
    scales = [m.time_scale for m in model.modules() if isinstance(m, TemporalEffectiveBatchNorm2d)]
    assert len(scales) == 8 and all(any(s is p for p in groups["norm_bias"]) for s in scales)
    assert sum(len(v) for v in groups.values()) == len(list(model.parameters()))

"""Building a run's objects from a config: neurons, model, loss, regulariser, optimiser, schedule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spikedyn.data import DatasetInfo
from spikedyn.layers.tebn import TemporalEffectiveBatchNorm2d
from spikedyn.losses import TauClusteringRegulariser, TauVarianceRegulariser
from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.surrogate import ATan, Sigmoid, Triangle
from spikedyn.training.config import ConfigError, load_config
from spikedyn.training.factories import (
    build_loss,
    build_model_from_config,
    build_optimizer,
    build_regularizer,
    build_scheduler,
    neuron_factory,
)


def config(*overrides: str):
    return load_config(None, list(overrides))


class SmallNet(nn.Module):
    """conv (bias) -> BN -> a config-made neuron over (4, 3, 3) -> linear: every parameter role once."""

    def __init__(self, neuron) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.neuron = neuron(shape=(4, 3, 3))
        self.fc = nn.Linear(36, 5, bias=False)


# ------------------------------------------------------------------ neurons


def test_plif_factory_passes_the_plif_options():
    cfg = config(
        "model.neuron.tau=3.0", "model.neuron.tau_shape=channel", "model.neuron.imp=neuron",
        "model.neuron.imp_init_range=[0.1,0.3]", "model.neuron.v_threshold=0.5", "model.neuron.v_reset=null",
        "model.neuron.detach_reset=false", "model.neuron.decay_input=false", "model.neuron.surrogate=sigmoid",
        "model.neuron.surrogate_alpha=3", "model.neuron.backend=reference",
    )  # fmt: skip
    neuron = neuron_factory(cfg.model.neuron)(shape=(4, 3, 3))
    assert type(neuron) is PLIF
    assert neuron.tau.shape == (4,) and torch.allclose(neuron.tau, torch.full((4,), 3.0))
    assert neuron.imp.shape == (4, 3, 3) and bool(((neuron.imp >= 0.1) & (neuron.imp <= 0.3)).all())
    dyn = neuron.dynamics
    assert (dyn.v_threshold, dyn.v_reset, dyn.detach_reset, dyn.decay_input) == (0.5, None, False, False)
    assert dyn.surrogate == Sigmoid(alpha=3.0)
    assert neuron.backend == "reference"


def test_plif_factory_lognormal_per_neuron_tau():
    cfg = config("model.neuron.tau_shape=neuron", "model.neuron.tau_init=lognormal", "model.neuron.tau_std=0.5")
    torch.manual_seed(0)
    tau = neuron_factory(cfg.model.neuron)(shape=(64, 8, 8)).tau
    assert tau.shape == (64, 8, 8) and bool((tau > 1).all())
    assert tau.mean().item() == pytest.approx(2.0, abs=0.05) and tau.std().item() == pytest.approx(0.5, abs=0.05)


def test_default_neuron_is_the_plif_papers():
    neuron = neuron_factory(config().model.neuron)(shape=(3,))
    assert type(neuron) is PLIF and neuron.tau.shape == () and neuron.tau.item() == pytest.approx(2.0)
    assert neuron.dynamics.surrogate == ATan(alpha=2.0) and neuron.imp is None
    assert (neuron.dynamics.v_threshold, neuron.dynamics.v_reset, neuron.dynamics.detach_reset) == (1.0, 0.0, True)


def test_lif_factory_is_the_imp_papers_neuron():
    cfg = config(
        "model.neuron.kind=lif", "model.neuron.tau=1.3333333333333333", "model.neuron.decay_input=false",
        "model.neuron.surrogate=triangle", "model.neuron.surrogate_alpha=1", "model.neuron.imp=neuron",
    )  # fmt: skip
    neuron = neuron_factory(cfg.model.neuron)(shape=(2, 4))
    assert type(neuron) is LIF and not isinstance(neuron, PLIF)
    assert float(neuron.k) == pytest.approx(0.75)
    assert neuron.dynamics.decay_input is False and neuron.dynamics.surrogate == Triangle(alpha=1.0)
    assert neuron.imp.shape == (2, 4)
    assert not any(name.endswith("tau_logit") for name, _ in neuron.named_parameters())


def test_if_factory_takes_no_leak_options():
    cfg = config("model.neuron.kind=if", "model.neuron.decay_input=false", "model.neuron.imp=channel")
    neuron = neuron_factory(cfg.model.neuron)(shape=(3, 2, 2))  # IF itself rejects decay_input
    assert type(neuron) is IF and neuron.dynamics.leaky is False and math.isinf(neuron.tau.item())
    assert neuron.imp.shape == (3,)
    plain = neuron_factory(config("model.neuron.kind=if").model.neuron)(shape=(3, 2, 2))
    spikes = plain(torch.full((3, 1, 3, 2, 2), 0.6))  # no leak: 0.6, then 1.2 >= 1 fires and resets to 0, then 0.6
    assert spikes[:, 0, 0, 0, 0].tolist() == [0.0, 1.0, 0.0]


# ------------------------------------------------------------------ model


def test_the_model_takes_channels_size_and_classes_from_the_data():
    cfg = config("model.options={}")
    info = DatasetInfo("fake", num_classes=7, frame_shape=(2, 12, 12), time_steps=3)
    model = build_model_from_config(cfg, info)
    assert model.input_shape == (2, 12, 12)
    assert sum(isinstance(m, PLIF) for m in model.modules()) == 4  # two conv stages, two FC layers
    model.eval()
    assert model(torch.rand(3, 2, 2, 12, 12)).shape == (3, 2, 7)


def test_the_static_encoder_gets_the_datasets_time_steps():
    cfg = config("model.options={static_encoder: true}")
    model = build_model_from_config(cfg, DatasetInfo("fake", 10, (1, 8, 8), time_steps=5)).eval()
    assert model(torch.rand(2, 1, 8, 8)).shape == (5, 2, 10)  # images [B, C, H, W] repeated over T = 5


def test_vgg_gets_its_time_steps_from_the_data():
    cfg = config("model.name=vgg11_imp", "model.options={}", "model.neuron.kind=lif", "model.neuron.imp=neuron")
    with torch.device("meta"):
        model = build_model_from_config(cfg, DatasetInfo("fake", 101, (2, 48, 48), time_steps=6))
    tebn = [m for m in model.modules() if isinstance(m, TemporalEffectiveBatchNorm2d)]
    assert tebn and all(m.time_steps == 6 for m in tebn)
    assert model.input_shape == (2, 48, 48) and [m for m in model.modules() if isinstance(m, nn.Linear)][-1].out_features == 101


def test_options_that_agree_with_the_data_are_kept():
    cfg = config("model.options={in_channels: 1, input_size: 8, num_classes: 10, pooling: avg}")
    model = build_model_from_config(cfg, DatasetInfo("digits", 10, (1, 8, 8), 4))
    assert model.input_shape == (1, 8, 8)


@pytest.mark.parametrize(
    "options, info, words",
    [
        ("{num_classes: 10}", DatasetInfo("gesture", 11, (2, 8, 8), 4), ["num_classes", "10", "11", "gesture"]),
        ("{input_size: 28}", DatasetInfo("nmnist", 10, (2, 34, 34), 4), ["input_size", "28", "34"]),
        ("{in_channels: 1}", DatasetInfo("nmnist", 10, (2, 34, 34), 4), ["in_channels", "1", "2"]),
        ("{time_steps: 8, static_encoder: true}", DatasetInfo("mnist", 10, (1, 28, 28), 4), ["time_steps", "8", "4"]),
        ("{}", DatasetInfo("wide", 10, (2, 32, 48), 4), ["square", "32x48"]),
    ],
)
def test_a_model_option_that_disagrees_with_the_data_is_refused(options, info, words):
    with pytest.raises(ConfigError) as caught:
        build_model_from_config(config(f"model.options={options}"), info)
    assert all(word in str(caught.value) for word in words)


# ------------------------------------------------------------------ loss and regularisers


def test_build_loss_uses_the_named_loss_and_its_options():
    loss = build_loss(config("loss.name=tet_s", "loss.options={label_smoothing: 0.2}"))
    assert loss.name == "tet_s" and loss.options["label_smoothing"] == 0.2
    y, labels = torch.randn(3, 4, 5), torch.tensor([0, 1, 2, 3])
    expected = torch.nn.functional.cross_entropy(y.reshape(12, 5), labels.repeat(3), label_smoothing=0.2)
    assert torch.allclose(loss(y, labels), expected)


def per_neuron_net():
    cfg = config("model.neuron.tau_shape=neuron", "model.neuron.tau_init=lognormal", "model.neuron.tau_std=0.5")
    return SmallNet(neuron_factory(cfg.model.neuron))


@pytest.mark.parametrize("overrides", [(), ("regularizer.kind=variance", "regularizer.lam=0"), ("regularizer.kind=clustering", "regularizer.lam=[0]")])
def test_no_regulariser_without_a_kind_or_a_lambda(overrides):
    assert build_regularizer(config(*overrides), per_neuron_net()) is None


def test_the_variance_regulariser_penalises_the_variance_of_a():
    torch.manual_seed(1)
    model = per_neuron_net()
    reg = build_regularizer(config("regularizer.kind=variance", "regularizer.lam=0.1"), model)
    assert isinstance(reg, TauVarianceRegulariser)
    a = model.neuron.tau_logit.detach().flatten()
    expected = 0.1 * ((a - a.mean()) ** 2).sum() / (a.numel() - 1)
    assert reg(model).item() == pytest.approx(expected.item(), rel=1e-5)
    on_tau = build_regularizer(config("regularizer.kind=variance", "regularizer.lam=0.1", "regularizer.on=tau"), model)
    tau = 1 + torch.exp(-a)
    assert on_tau(model).item() == pytest.approx(0.1 * tau.var().item(), rel=1e-5)


def test_the_clustering_regulariser_has_its_centres():
    model = per_neuron_net()
    reg = build_regularizer(config("regularizer.kind=clustering", "regularizer.lam=0.5", "regularizer.num_centres=3"), model)
    assert isinstance(reg, TauClusteringRegulariser) and reg.num_centres == 3
    assert [p.shape for p in reg.parameters()] == [torch.Size([3])]
    assert reg(model).item() >= 0


# ------------------------------------------------------------------ optimiser


def imp_net():
    cfg = config("model.neuron.imp=neuron")
    return SmallNet(neuron_factory(cfg.model.neuron))


def groups_of(optimizer):
    return {g["name"]: g for g in optimizer.param_groups}


def test_adam_groups_share_the_lr_unless_given_their_own():
    model = imp_net()
    groups = groups_of(build_optimizer(config("optimizer.lr=0.01"), model))
    assert set(groups) == {"weights", "tau", "imp", "norm_bias"}
    assert all(g["lr"] == 0.01 for g in groups.values())
    assert groups["tau"]["params"] == [model.neuron.tau_logit] and groups["imp"]["params"] == [model.neuron.imp]
    assert {id(p) for p in groups["weights"]["params"]} == {id(model.conv.weight), id(model.fc.weight)}
    assert {id(p) for p in groups["norm_bias"]["params"]} == {id(model.conv.bias), id(model.bn.weight), id(model.bn.bias)}


def test_each_group_gets_its_lr_and_weight_decay():
    cfg = config(
        "optimizer.name=sgd", "optimizer.lr=0.1", "optimizer.momentum=0.8", "optimizer.weight_decay=5e-4",
        "optimizer.tau_lr=0.01", "optimizer.imp_lr=0.02", "optimizer.tau_weight_decay=0.001",
        "optimizer.imp_weight_decay=0", "optimizer.norm_bias_weight_decay=1e-5",
    )  # fmt: skip
    optimizer = build_optimizer(cfg, imp_net())
    assert type(optimizer) is torch.optim.SGD
    groups = groups_of(optimizer)
    assert {name: (g["lr"], g["weight_decay"]) for name, g in groups.items()} == {
        "weights": (0.1, 5e-4), "tau": (0.01, 0.001), "imp": (0.02, 0.0), "norm_bias": (0.1, 1e-5),
    }  # fmt: skip
    assert all(g["momentum"] == 0.8 and g["nesterov"] is False for g in optimizer.param_groups)


def test_adamw_and_extra_tau_parameters():
    model = per_neuron_net()
    reg = build_regularizer(config("regularizer.kind=clustering", "regularizer.lam=0.1"), model)
    optimizer = build_optimizer(config("optimizer.name=adamw", "optimizer.tau_lr=0.003"), model, reg.parameters())
    assert type(optimizer) is torch.optim.AdamW
    tau = groups_of(optimizer)["tau"]
    assert tau["lr"] == 0.003 and {id(p) for p in tau["params"]} == {id(model.neuron.tau_logit), *map(id, reg.parameters())}


# ------------------------------------------------------------------ schedule


def lrs_over(scheduler, optimizer, epochs):
    """The lr of each group at epochs 0 .. epochs-1 (one scheduler step per epoch)."""
    seen = []
    for _ in range(epochs):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


def test_warm_up_then_cosine_by_hand():
    cfg = config("optimizer.lr=0.1", "scheduler.warmup_epochs=2", "scheduler.eta_min=0.001")
    model = imp_net()
    optimizer = build_optimizer(cfg, model)
    scheduler = build_scheduler(cfg, optimizer, max_epochs=10)  # cosine over 10 - 2 = 8 epochs
    lrs = [row[0] for row in lrs_over(scheduler, optimizer, 11)]
    # warm-up: lr (e + 1) / (w + 1); then eta + (lr - eta) (1 + cos(pi c / 8)) / 2, c = e - 2
    expected = {
        0: 0.1 / 3,
        1: 0.2 / 3,
        2: 0.1,  # c = 0: the full lr
        4: 0.001 + 0.099 * (1 + math.sqrt(0.5)) / 2,  # c = 2: cos(pi/4) = sqrt(1/2)
        6: 0.001 + 0.099 * 0.5,  # c = 4: cos(pi/2) = 0
        10: 0.001,  # c = 8: cos(pi) = -1, eta_min
    }
    for epoch, lr in expected.items():
        assert lrs[epoch] == pytest.approx(lr, rel=1e-9), epoch


def test_cosine_with_t_max_follows_torch_and_comes_back_up():
    cfg = config("optimizer.lr=1e-3", "optimizer.tau_lr=1e-2", "scheduler.t_max=4", "scheduler.eta_min=1e-5")
    model = imp_net()
    optimizer = build_optimizer(cfg, model)
    ours = lrs_over(build_scheduler(cfg, optimizer, max_epochs=30), optimizer, 13)
    reference_optimizer = torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))], "lr": g["lr"]}
                                           for g in build_optimizer(cfg, imp_net()).param_groups], lr=1.0)  # fmt: skip
    reference = lrs_over(torch.optim.lr_scheduler.CosineAnnealingLR(reference_optimizer, T_max=4, eta_min=1e-5), reference_optimizer, 13)
    for row, reference_row in zip(ours, reference):
        assert row == pytest.approx(reference_row, rel=1e-9)
    by_name = dict(zip([g["name"] for g in optimizer.param_groups], zip(*ours)))
    assert by_name["weights"][4] == pytest.approx(1e-5) and by_name["weights"][8] == pytest.approx(1e-3)  # back up
    assert by_name["tau"][2] == pytest.approx(1e-5 + (1e-2 - 1e-5) / 2)


def test_the_schedule_resumes_from_its_state_dict():
    cfg = config("scheduler.warmup_epochs=3", "scheduler.t_max=5")
    first_optimizer = build_optimizer(cfg, imp_net())
    first = build_scheduler(cfg, first_optimizer, max_epochs=20)
    lrs_over(first, first_optimizer, 6)
    second_optimizer = build_optimizer(cfg, imp_net())
    second = build_scheduler(cfg, second_optimizer, max_epochs=20)
    second_optimizer.load_state_dict(first_optimizer.state_dict())
    second.load_state_dict(first.state_dict())
    assert lrs_over(second, second_optimizer, 4) == lrs_over(first, first_optimizer, 4)


def test_no_schedule_and_an_empty_cosine():
    cfg = config("scheduler.name=none")
    assert build_scheduler(cfg, build_optimizer(cfg, imp_net()), max_epochs=5) is None
    cfg = config("scheduler.warmup_epochs=5")
    with pytest.raises(ConfigError, match="warmup_epochs"):
        build_scheduler(cfg, build_optimizer(cfg, imp_net()), max_epochs=5)

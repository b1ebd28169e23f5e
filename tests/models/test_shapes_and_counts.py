"""Output shapes, Table S1 parameter counts by hand, and the builder's neuron shapes."""

from functools import partial

import pytest
import torch
from torch import nn

from spikedyn.models import build_model
from spikedyn.neurons import IF, LIF, PLIF, BaseNeuron

SMALL = {
    "plifnet_mnist": ({}, (3, 2, 1, 28, 28), 10),
    "plifnet_nmnist": ({}, (2, 2, 2, 34, 34), 10),
    "plifnet_cifar10": ({"input_size": 16}, (2, 2, 3, 16, 16), 10),
    "plifnet_cifar10dvs": ({"input_size": 32}, (2, 2, 2, 32, 32), 10),
    "plifnet_dvs128gesture": ({"input_size": 32}, (2, 2, 2, 32, 32), 11),
    "vgg11_imp": ({"time_steps": 2}, (2, 2, 2, 48, 48), 10),
    "vgg11_imp_128": ({"time_steps": 2, "input_size": 32, "num_classes": 101}, (2, 1, 2, 32, 32), 101),
    "sew_resnet18": ({"input_size": 32, "num_classes": 7}, (2, 2, 3, 32, 32), 7),
    "sew_resnet34": ({"input_size": 32, "num_classes": 7}, (2, 1, 3, 32, 32), 7),
    "sew_resnet50": ({"input_size": 32, "num_classes": 7}, (2, 1, 3, 32, 32), 7),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_model_gives_class_scores_per_step_and_trains(name):
    options, shape, classes = SMALL[name]
    torch.manual_seed(0)
    model = build_model(name, **options)
    x, labels = torch.rand(shape), torch.arange(shape[1]) % classes
    spikes: list[float] = []
    neurons = [m for m in model.modules() if isinstance(m, BaseNeuron)]
    hooks = [m.register_forward_hook(lambda module, inputs, out: spikes.append(out.detach().sum().item())) for m in neurons]
    y = model(x)
    for hook in hooks:
        hook.remove()
    assert y.shape == (shape[0], shape[1], classes)
    assert len(spikes) == len(neurons) and spikes[0] > 0, f"spikes per neuron layer: {spikes}"  # the first layer fires
    loss = nn.functional.cross_entropy(y.mean(0), labels)
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), [n for n, g in grads.items() if g is None or not torch.isfinite(g).all()]
    first_weight = next(g for n, g in grads.items() if n.endswith("weight"))
    assert first_weight.abs().sum() > 0  # the gradient reaches the input through every layer
    # Trains: on this one batch, a few Adam steps lower the loss. PLIF nets start with a silent output layer (their
    # fully connected layers see sparse spikes), so their loss moves once the surrogate gradient has woken it.
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = [loss.item()]
    while losses[-1] >= losses[0] - 1e-3 and len(losses) <= 10:
        optimizer.step()
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x).mean(0), labels)
        loss.backward()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1e-3, f"losses over {len(losses) - 1} Adam steps: {losses}"


def _plifnet_count(in_ch, size, convs_per_stage, stages, width, fc, classes):
    """Table S1 by hand: conv k3 (no bias) + BN (2C) + one tau per PLIF layer, FCs without bias."""
    count, ch = 0, in_ch
    for _ in range(stages):
        for _ in range(convs_per_stage):
            count += ch * width * 9 + 2 * width + 1
            ch = width
        size //= 2
    return count + width * size * size * fc + 1 + fc * 10 * classes + 1


@pytest.mark.parametrize(
    "name, options, expected",
    [
        ("plifnet_mnist", {}, _plifnet_count(1, 28, 1, 2, 128, 2048, 10)),
        ("plifnet_nmnist", {}, _plifnet_count(2, 34, 1, 2, 128, 2048, 10)),
        ("plifnet_cifar10", {}, _plifnet_count(3, 32, 3, 2, 256, 2048, 10)),
        ("plifnet_cifar10dvs", {}, _plifnet_count(2, 128, 1, 4, 128, 2048, 10)),
        ("plifnet_cifar10dvs", {"fc_features": 512}, _plifnet_count(2, 128, 1, 4, 128, 512, 10)),
        ("plifnet_dvs128gesture", {}, _plifnet_count(2, 128, 1, 5, 128, 512, 11)),
    ],
)
def test_plif_nets_have_the_parameter_count_of_table_s1(name, options, expected):
    assert build_model(name, **options).num_parameters() == expected


# The IMP paper's Table 1 (millions of parameters, ImageNet, 224x224): without and with a
# per-neuron IMP on every spiking neuron.
@pytest.mark.parametrize(
    "name, plain, with_imp",
    [("sew_resnet18", 11.69, 14.17), ("sew_resnet34", 21.79, 25.54), ("sew_resnet50", 25.56, 36.67)],
)
def test_sew_resnets_match_the_imp_papers_parameter_counts(name, plain, with_imp):
    model = build_model(name)
    assert model.num_parameters() / 1e6 == pytest.approx(plain, abs=0.011)
    imp_model = build_model(name, neuron=partial(LIF, tau=4 / 3, decay_input=False, imp="neuron"))
    assert imp_model.num_parameters() / 1e6 == pytest.approx(with_imp, abs=0.011)
    assert imp_model.num_parameters() - model.num_parameters() == model.num_spiking_neurons()


def test_the_builder_passes_each_layers_feature_shape_to_the_neuron_factory():
    shapes = []

    def recording_factory(shape):
        shapes.append(shape)
        return PLIF(shape=shape, tau_shape="neuron", imp="neuron")

    model = build_model("plifnet_mnist", neuron=recording_factory)
    assert shapes == [(128, 28, 28), (128, 14, 14), (2048,), (100,)]
    plifs = [m for m in model.modules() if isinstance(m, PLIF)]
    assert [tuple(m.tau_logit.shape) for m in plifs] == shapes
    assert model.num_spiking_neurons() == sum(torch.Size(s).numel() for s in shapes)
    # the neurons check their input against the shape they were given
    model(torch.rand(2, 1, 1, 28, 28))


@pytest.mark.parametrize("name", ["sew_resnet18", "sew_resnet50", "vgg11_imp"])
def test_per_neuron_shapes_fit_the_layers_they_receive(name):
    options, shape, _ = SMALL[name]
    model = build_model(name, neuron=partial(IF, imp="neuron"), **options)
    seen = []
    for module in model.modules():
        if isinstance(module, BaseNeuron):
            module.register_forward_hook(lambda m, inputs, out: seen.append(tuple(out.shape[2:]) == m.shape))
    model(torch.rand(shape))
    assert len(seen) == len(model.neuron_shapes) and all(seen)


def test_model_with_per_neuron_tau_and_imp_loads_into_a_fresh_model_without_a_forward(tmp_path):
    factory = partial(PLIF, tau_shape="neuron", tau_init="lognormal", tau_std=0.5, imp="neuron")
    torch.manual_seed(0)
    trained = build_model("plifnet_mnist", neuron=factory)
    torch.save(trained.state_dict(), tmp_path / "model.pt")
    torch.manual_seed(1)
    fresh = build_model("plifnet_mnist", neuron=factory)
    fresh.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    for a, b in zip(trained.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)


def test_summary_reports_counts():
    model = build_model("plifnet_mnist")
    assert f"{model.num_parameters():,} parameters" in model.summary()
    assert f"{model.num_spiking_neurons():,} spiking neurons in 4 layers" in model.summary()


def test_pooling_option_switches_every_pool():
    from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d

    avg = build_model("plifnet_cifar10", pooling="avg")
    kinds = [type(m) for m in avg.modules() if isinstance(m, (SpikeAvgPool2d, SpikeMaxPool2d))]
    assert kinds == [SpikeAvgPool2d, SpikeAvgPool2d]


def test_vgg_with_plain_bn_runs_any_number_of_steps():
    model = build_model("vgg11_imp", norm="bn", input_size=16)
    assert model(torch.rand(3, 1, 2, 16, 16)).shape == (3, 1, 10)
    assert not any(isinstance(m, nn.BatchNorm2d) and hasattr(m, "time_scale") for m in model.modules())


def test_zero_init_residual_zeroes_the_last_bn_of_every_block():
    from spikedyn.models.sew_resnet import SEWBlock

    model = build_model("sew_resnet18", input_size=32, num_classes=7, zero_init_residual=True)
    blocks = [m for m in model.modules() if isinstance(m, SEWBlock)]
    assert len(blocks) == 8
    for block in blocks:
        last_bn = [m for m in block.body.modules() if isinstance(m, nn.BatchNorm2d)][-1]
        assert torch.count_nonzero(last_bn.weight) == 0
    plain = build_model("sew_resnet18", input_size=32, num_classes=7)
    assert all(torch.count_nonzero(m.weight) > 0 for m in plain.modules() if isinstance(m, nn.BatchNorm2d))

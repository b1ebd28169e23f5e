"""from_spikingjelly: a SpikingJelly 2.0 network and its conversion give the same spikes, statistics and gradients."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from torch import nn

pytestmark = pytest.mark.oracle
pytest.importorskip("spikingjelly.activation_based", reason="spikingjelly 2.0.0 is not installed")
from spikingjelly.activation_based import functional, layer, neuron, surrogate  # noqa: E402

from spikedyn.interop.spikingjelly import SpikingJellyConversionError, from_spikingjelly  # noqa: E402
from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d, TemporalDropout, TimeDistributed, VotingLayer  # noqa: E402
from spikedyn.neurons import IF, LIF, PLIF, BaseNeuron  # noqa: E402
from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Triangle  # noqa: E402

#: name -> a SpikingJelly neuron in multi-step mode, one per option that needs care.
NEURONS = {
    "if": lambda: neuron.IFNode(step_mode="m"),
    "lif_soft_no_decay_input": lambda: neuron.LIFNode(tau=2.0, decay_input=False, v_reset=None, step_mode="m"),
    "lif_sigmoid_detached": lambda: neuron.LIFNode(tau=4.0, v_threshold=0.5, v_reset=-0.1, detach_reset=True,
                                                   surrogate_function=surrogate.Sigmoid(alpha=2.5), step_mode="m"),  # fmt: skip
    "plif_atan": lambda: neuron.ParametricLIFNode(init_tau=2.0, surrogate_function=surrogate.ATan(alpha=3.0), step_mode="m"),
    "plif_soft_no_decay_input": lambda: neuron.ParametricLIFNode(init_tau=3.0, decay_input=False, v_reset=None, step_mode="m"),
}


def randomise(net: nn.Module, seed: int = 0) -> nn.Module:
    """Batch norms far from their defaults (statistics, affine part, count, eps, momentum) and PLIF w moved from its start."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=generator) + 0.5)
            bn.weight.copy_(torch.rand(bn.num_features, generator=generator) + 0.5)
            bn.bias.copy_(torch.rand(bn.num_features, generator=generator) * 0.5 + 0.3)
            bn.num_batches_tracked.fill_(int(torch.randint(1, 50, (), generator=generator)))
            bn.eps, bn.momentum = 1e-3, 0.25
        for node in (m for m in net.modules() if isinstance(m, neuron.ParametricLIFNode)):
            node.w.add_(torch.rand((), generator=generator) + 0.2)
        for linear in (m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))):
            linear.weight.mul_(4.0)  # toy networks are nearly silent at their default initialisation
            if linear.bias is not None:
                linear.bias.add_(0.3)
    return net


def csnn(make_neuron, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """The acceptance network: conv-BN-neuron-pool twice, flatten, linear-neuron twice, in multi-step mode."""
    torch.manual_seed(0)
    net = nn.Sequential(
        layer.Conv2d(1, 6, 3, padding=1, bias=False), layer.BatchNorm2d(6), make_neuron(), layer.MaxPool2d(2),
        layer.Conv2d(6, 6, 3, padding=1, bias=False), layer.BatchNorm2d(6), make_neuron(), layer.MaxPool2d(2),
        layer.Flatten(), layer.Linear(6 * 2 * 2, 24), make_neuron(), layer.Linear(24, 10), make_neuron(),
    )  # fmt: skip
    functional.set_step_mode(net, "m")
    net[5].momentum = None  # a cumulative average: the copied num_batches_tracked weighs it
    return randomise(net).to(dtype)


def inputs(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (torch.rand(8, 3, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2).to(dtype)


def layer_outputs(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every layer of a Sequential, in order."""
    outputs = []
    for module in net:
        x = module(x)
        outputs.append(x)
    return outputs


def sj_layer_outputs(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    outputs = layer_outputs(net, x)
    functional.reset_net(net)
    return outputs


def assert_same_statistics(sj_net: nn.Module, ours: nn.Module) -> None:
    sj_bns = [m for m in sj_net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    our_bns = [m for m in ours.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(sj_bns) == len(our_bns) > 0
    for theirs, mine in zip(sj_bns, our_bns):
        for name in ("running_mean", "running_var", "num_batches_tracked", "weight", "bias"):
            assert torch.equal(getattr(theirs, name), getattr(mine, name)), name
        assert (theirs.eps, theirs.momentum) == (mine.eps, mine.momentum)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", list(NEURONS))
def test_the_csnn_gives_the_same_spikes_statistics_and_gradients(kind, dtype):
    sj_net = csnn(NEURONS[kind], dtype)
    ours = from_spikingjelly(sj_net)
    assert type(ours) is nn.Sequential and [name for name, _ in ours.named_children()] == [str(i) for i in range(13)]
    x = inputs(dtype)

    for mode in (False, True):  # eval: running statistics; train: batch statistics, and both update theirs
        sj_net.train(mode), ours.train(mode)
        x_sj, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
        expected, got = sj_layer_outputs(sj_net, x_sj), layer_outputs(ours, x_ours)
        for index, (theirs, mine) in enumerate(zip(expected, got, strict=True)):
            assert theirs.dtype == mine.dtype == dtype and torch.equal(theirs, mine), f"layer {index} ({'train' if mode else 'eval'})"
        assert_same_statistics(sj_net, ours)
        spikes = [out.detach() for out, module in zip(got, ours) if isinstance(module, BaseNeuron)]
        assert all(0 < s.mean() < 1 for s in spikes), [float(s.mean()) for s in spikes]  # neither silent nor saturated

    weights = torch.linspace(-1, 1, got[-1].numel(), dtype=dtype).view_as(got[-1])  # gradients through train mode
    (expected[-1] * weights).sum().backward()
    (got[-1] * weights).sum().backward()
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(x_ours.grad, x_sj.grad, **tolerance)
    for theirs, mine in zip(sj_net.parameters(), ours.parameters(), strict=True):
        torch.testing.assert_close(mine.grad.reshape(theirs.shape), theirs.grad, **tolerance)


def test_each_neuron_keeps_its_options():
    sj_net = csnn(NEURONS["lif_sigmoid_detached"])
    lif = from_spikingjelly(sj_net)[2]
    assert type(lif) is LIF and float(lif.tau) == 4.0
    dynamics = lif.dynamics
    assert (dynamics.v_threshold, dynamics.v_reset, dynamics.detach_reset, dynamics.decay_input) == (0.5, -0.1, True, True)
    assert dynamics.surrogate == Sigmoid(alpha=2.5)

    sj_net = csnn(NEURONS["plif_soft_no_decay_input"])
    plif = from_spikingjelly(sj_net)[6]
    assert type(plif) is PLIF and plif.dynamics.v_reset is None and not plif.dynamics.decay_input
    assert plif.dynamics.surrogate == Sigmoid(alpha=4.0) and not plif.dynamics.detach_reset  # SpikingJelly's defaults
    assert torch.equal(plif.tau_logit.detach(), sj_net[6].w.detach()) and plif.tau_logit.requires_grad
    assert sj_net[6].w.item() != pytest.approx(-torch.log(torch.tensor(2.0)).item())  # a learned w, not the initial one
    assert type(from_spikingjelly(csnn(NEURONS["if"]))[10]) is IF


@pytest.mark.parametrize("sj_surrogate, ours", [
    (surrogate.Sigmoid(alpha=6.0), Sigmoid(alpha=6.0)),
    (surrogate.ATan(alpha=1.5), ATan(alpha=1.5)),
    (surrogate.PiecewiseQuadratic(alpha=0.7), Triangle(alpha=0.7)),
    (surrogate.Rect(alpha=0.8), Rectangular(alpha=0.8)),
])  # fmt: skip
def test_each_surrogate_maps_to_the_same_derivative(sj_surrogate, ours):
    torch.manual_seed(3)
    sj_net = nn.Sequential(layer.Linear(6, 5, step_mode="m"), neuron.LIFNode(surrogate_function=sj_surrogate, step_mode="m"))
    converted = from_spikingjelly(sj_net)
    assert converted[1].dynamics.surrogate == ours
    x = torch.randn(6, 4, 6) + 0.8
    x_sj, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    spikes_sj, spikes_ours = sj_net(x_sj), converted(x_ours)
    assert torch.equal(spikes_sj, spikes_ours) and 0 < spikes_ours.mean() < 1
    weights = torch.randn_like(spikes_sj)
    (spikes_sj * weights).sum().backward()
    (spikes_ours * weights).sum().backward()
    assert x_sj.grad.abs().sum() > 0
    torch.testing.assert_close(x_ours.grad, x_sj.grad, rtol=1e-5, atol=1e-6)


def container_net(dropout: float = 0.5) -> nn.Sequential:
    """SeqToANNContainer around plain torch layers (and a single-step SpikingJelly layer), average pooling, dropout, voting."""
    torch.manual_seed(2)
    net = nn.Sequential(OrderedDict(
        features=nn.Sequential(
            layer.SeqToANNContainer(nn.Conv2d(2, 6, 3, padding=1), nn.BatchNorm2d(6)),
            neuron.LIFNode(tau=2.0, step_mode="m"),
            layer.AvgPool2d(2, step_mode="m"),
            layer.SeqToANNContainer(nn.Sequential(layer.Conv2d(6, 6, 3, padding=1), nn.AvgPool2d(2, ceil_mode=True))),
            neuron.IFNode(step_mode="m"),
        ),
        classifier=nn.Sequential(
            layer.Flatten(step_mode="m"),
            layer.Dropout(dropout, step_mode="m"),
            layer.SeqToANNContainer(nn.Linear(6 * 2 * 2, 20)),
            neuron.ParametricLIFNode(step_mode="m"),
            layer.VotingLayer(10, step_mode="m"),
        ),
    ))  # fmt: skip
    return randomise(net)


def test_containers_average_pooling_dropout_and_voting_convert_and_match_in_eval():
    sj_net = container_net().eval()
    ours = from_spikingjelly(sj_net)
    assert [type(m) for m in ours.features] == [TimeDistributed, LIF, SpikeAvgPool2d, TimeDistributed, IF]
    assert [type(m) for m in ours.classifier] == [TimeDistributed, TemporalDropout, TimeDistributed, PLIF, VotingLayer]
    assert type(ours.features[3].layer[1]) is nn.AvgPool2d and ours.features[3].layer[1].ceil_mode  # no SpikeAvgPool2d for it
    assert ours.classifier[1].p == 0.5 and ours.classifier[1].shared_over_time
    assert not ours.training and not ours.features[0].layer[1].training

    x = torch.rand(5, 3, 2, 8, 8) * 2
    expected = sj_net(x)
    functional.reset_net(sj_net)
    got = ours(x)
    assert torch.equal(got, expected) and got.shape == (5, 3, 2) and got.abs().sum() > 0
    assert_same_statistics(sj_net, ours)


def test_dropout_keeps_one_mask_for_all_steps_in_both():
    sj_dropout = layer.Dropout(0.5, step_mode="m")
    ours = from_spikingjelly(nn.Sequential(sj_dropout))[0]
    ones = torch.ones(6, 4, 50)
    for module in (sj_dropout, ours):
        out = module(ones)
        assert set(out.unique().tolist()) == {0.0, 2.0}
        assert all(torch.equal(step, out[0]) for step in out)  # the mask of step 0 at every step
    assert not torch.equal(ours(ones), ours(ones))  # a new mask per call: no reset_net needed


@pytest.mark.parametrize("sj_layer, shape, expected", [
    (layer.Conv1d(3, 4, 3, stride=2, padding=1, step_mode="m"), (4, 2, 3, 9), nn.Conv1d),
    (layer.Conv2d(3, 4, 3, dilation=2, groups=1, padding_mode="reflect", padding=2, step_mode="m"), (4, 2, 3, 7, 7), nn.Conv2d),
    (layer.Linear(5, 3, bias=False, step_mode="m"), (4, 2, 5), nn.Linear),
    (layer.BatchNorm1d(5, momentum=None, step_mode="m"), (4, 2, 5), nn.BatchNorm1d),
    (layer.BatchNorm1d(5, affine=False, step_mode="m"), (4, 2, 5, 3), nn.BatchNorm1d),
    (layer.BatchNorm2d(3, track_running_stats=False, step_mode="m"), (4, 2, 3, 5, 5), nn.BatchNorm2d),
    (layer.MaxPool1d(2, step_mode="m"), (4, 2, 3, 8), nn.MaxPool1d),
    (layer.MaxPool2d(3, stride=2, padding=1, ceil_mode=True, step_mode="m"), (4, 2, 3, 8, 8), nn.MaxPool2d),
    (layer.AvgPool1d(2, step_mode="m"), (4, 2, 3, 8), nn.AvgPool1d),
    (layer.AvgPool2d(3, padding=1, count_include_pad=False, divisor_override=2, step_mode="m"), (4, 2, 3, 6, 6), nn.AvgPool2d),
    (layer.AdaptiveAvgPool2d((2, 3), step_mode="m"), (4, 2, 3, 7, 7), nn.AdaptiveAvgPool2d),
    (layer.Flatten(2, step_mode="m"), (4, 2, 3, 2, 2), nn.Flatten),
])  # fmt: skip
def test_each_stateless_layer_runs_as_the_plain_torch_layer_over_folded_steps(sj_layer, shape, expected):
    sj_layer.train()
    converted = from_spikingjelly(sj_layer)
    assert isinstance(converted, TimeDistributed) and type(converted.layer) is expected
    x = torch.randn(shape, generator=torch.Generator().manual_seed(4))
    assert torch.equal(converted(x), sj_layer(x))
    for name, tensor in sj_layer.state_dict().items():
        assert torch.equal(converted.layer.state_dict()[name], tensor), name


def test_the_copy_aliases_nothing_and_keeps_dtypes_devices_and_frozen_parameters():
    sj_net = csnn(NEURONS["plif_atan"], torch.float64)
    sj_net[6] = neuron.LIFNode(tau=2.0, step_mode="m")
    sj_net[0].weight.requires_grad_(False)
    ours = from_spikingjelly(sj_net)
    theirs_tensors = list(sj_net.state_dict().values()) + [sj_net[2].w]
    ours_tensors = list(ours.state_dict().values())
    source_pointers = {t.data_ptr() for t in theirs_tensors}
    assert not source_pointers & {t.data_ptr() for t in ours_tensors}
    assert all(t.dtype == torch.float64 for t in ours.parameters())
    assert not ours[0].layer.weight.requires_grad and ours[4].layer.weight.requires_grad
    assert ours[6].k.dtype == torch.float64 and ours[6].k.device == sj_net[0].weight.device  # LIF keeps k in float64
    before = ours[1].layer.running_mean.clone()
    with torch.no_grad():
        sj_net[1].running_mean.add_(1.0), sj_net[2].w.add_(1.0)
    assert torch.equal(ours[1].layer.running_mean, before) and not torch.equal(ours[2].tau_logit, sj_net[2].w)


def test_the_copy_stays_on_the_source_device():
    sj_net = csnn(NEURONS["plif_atan"], torch.float64)
    sj_net[6] = neuron.LIFNode(tau=2.0, step_mode="m")
    ours = from_spikingjelly(sj_net.to("meta"))  # a device other than the CPU, without a GPU
    tensors = list(ours.parameters()) + list(ours.buffers())
    assert {t.device.type for t in tensors} == {"meta"}
    assert {t.dtype for t in tensors} == {torch.float64, torch.int64}  # num_batches_tracked is int64


def refusal(net: nn.Module) -> str:
    with pytest.raises(SpikingJellyConversionError) as caught:
        from_spikingjelly(net)
    return str(caught.value)


class Residual(nn.Module):
    """A residual block: its forward pass adds a branch to its input, which no chain of layers does."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(layer.Linear(4, 4, step_mode="m"), neuron.IFNode(step_mode="m"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Scale(nn.Module):
    """A custom module without children."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


def features(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(OrderedDict(features=nn.Sequential(*layers)))


def test_custom_and_residual_modules_are_refused_by_path():
    message = refusal(features(layer.Linear(4, 4, step_mode="m"), Residual(), Scale()))
    assert "features.1 (Residual): no rule converts it" in message and "residual blocks" in message
    assert "features.2 (Scale): no rule converts it" in message


def test_a_single_step_neuron_or_layer_is_refused_with_the_fix():
    message = refusal(features(layer.Linear(4, 4, step_mode="m"), neuron.IFNode(), layer.Flatten()))
    assert "features.1 (neuron.IFNode): it is in single-step mode (step_mode='s')" in message
    assert "features.2 (layer.Flatten): it is in single-step mode" in message
    assert "functional.set_step_mode(net, 'm')" in message


def test_an_unsupported_surrogate_is_refused_by_name():
    message = refusal(features(neuron.LIFNode(surrogate_function=surrogate.SoftSign(), step_mode="m")))
    assert "features.0 (neuron.LIFNode): its surrogate spikingjelly.activation_based.surrogate.SoftSign has no spikedyn equivalent" in message
    assert "surrogate.ATan (ATan)" in message
    message = refusal(features(neuron.LIFNode(surrogate_function=surrogate.ATan(spiking=False), step_mode="m")))
    assert "features.0 (neuron.LIFNode): its surrogate.ATan has spiking=False" in message


def test_options_and_modules_spikedyn_lacks_are_refused_all_in_one_error():
    class MyLIF(neuron.LIFNode):
        """A subclass may change the dynamics: refused even though it is a LIFNode."""

    used = neuron.LIFNode(step_mode="m")
    used(torch.rand(2, 3, 4))  # leaves its potential in the module
    message = refusal(features(
        neuron.LIFNode(v_threshold=0.5, v_reset=0.5, step_mode="m"),
        used,
        MyLIF(step_mode="m"),
        nn.Linear(4, 4),
        layer.SeqToANNContainer(nn.Linear(4, 4), nn.ReLU()),
        layer.Dropout2d(step_mode="m"),
    ))  # fmt: skip
    assert "features.0 (neuron.LIFNode): spikedyn's LIF does not take these options: v_reset (0.5) must be below v_threshold (0.5)" in message
    assert "features.1 (neuron.LIFNode): it holds its 'v' from an earlier call" in message and "functional.reset_net(net)" in message
    assert "features.2 (MyLIF): no rule converts it" in message
    assert "features.3 (nn.Linear): a plain torch layer here would take [T, B, ...] as its batch" in message
    assert "features.4.1 (nn.ReLU): inside layer.SeqToANNContainer only per-sample torch layers are converted" in message
    assert "features.5 (layer.Dropout2d): no rule converts it" in message
    assert message.count("\n  - ") == 6


def test_a_neuron_inside_seq_to_ann_container_is_refused():
    container = layer.SeqToANNContainer(nn.Linear(4, 4))
    container.add_module("1", neuron.IFNode())  # SpikingJelly's constructor checks, but a container can be appended to
    message = refusal(nn.Sequential(container))
    assert "0.1 (neuron.IFNode): inside layer.SeqToANNContainer only per-sample torch layers" in message


def test_the_converted_csnn_exports_to_nir():
    pytest.importorskip("nir")
    from spikedyn.interop import to_nir

    sj_net = csnn(NEURONS["plif_atan"]).eval()
    graph = to_nir(from_spikingjelly(sj_net), inputs())
    assert {"input", "output", "2", "6", "10", "12"} <= set(graph.nodes)


def test_the_module_imports_without_spikingjelly_or_nir_and_says_how_to_install():
    script = (
        "import sys\n"
        "sys.modules['nir'] = sys.modules['spikingjelly'] = None\n"  # None in sys.modules makes the import fail
        "from spikedyn.interop import from_spikingjelly\n"
        "import torch\n"
        "try:\n"
        "    from_spikingjelly(torch.nn.Sequential())\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "from_spikingjelly needs SpikingJelly 2.0 (pip install --no-deps spikingjelly==2.0.0)" in result.stdout

"""Small networks with heterogeneous tau (PLIF and CubaLIF), and spike records by layer, for the NIR tests."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from spikedyn.interop.modules import GraphNetwork
from spikedyn.layers import TimeDistributed
from spikedyn.models.plifnet import PLIFNet
from spikedyn.neurons import PLIF, BaseNeuron, CubaLIF
from spikedyn.neurons.parameters import broadcastable

#: PLIF with one log-normal tau per neuron (mean 2, sd 1): the heterogeneity the export must keep.
per_neuron_plif = partial(PLIF, tau=2.0, tau_shape="neuron", tau_init="lognormal", tau_std=1.0)


def randomise_batch_norm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every batch norm running statistics and an affine part far from the identity (so folding shows)."""
    generator = torch.Generator().manual_seed(seed)
    for bn in (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
        with torch.no_grad():
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=generator) * 1.5 + 0.5)
            bn.weight.copy_(torch.rand(bn.num_features, generator=generator) * 1.5 + 0.5)
            bn.bias.copy_(torch.rand(bn.num_features, generator=generator) * 0.6)
    return model


def strengthen(model: nn.Module, gain: float = 3.0) -> nn.Module:
    """Scale every conv and linear weight by ``gain``: default initialisations leave toy networks almost silent."""
    with torch.no_grad():
        for layer in (m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))):
            layer.weight.mul_(gain)
    return model


def tiny_plifnet(neuron: Callable[..., nn.Module] = per_neuron_plif, seed: int = 0, **options) -> PLIFNet:
    """A PLIF net of the paper's shape at toy size (2x8x8 frames, 4 channels, FC16, 3 classes voted by 2), in eval mode."""
    torch.manual_seed(seed)
    settings = dict(stages=[[4], [4]], fc_features=16, in_channels=2, input_size=8, num_classes=3, voting=2) | options
    model = strengthen(randomise_batch_norm(PLIFNet("tiny", neuron=neuron, **settings), seed))
    with torch.no_grad():
        for linear in (m for m in model.classifier.modules() if isinstance(m, nn.Linear)):
            linear.weight.add_(0.25)  # a few spikes through weights of random sign would seldom reach the threshold
    return model.eval()


def trained_tiny_plifnet() -> torch.nn.Module:
    """The toy PLIF net after a few Adam steps, so its per-neuron taus are learned ones (BN keeps its statistics)."""
    model = tiny_plifnet().train()
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(123)
    for _ in range(3):
        x, target = event_frames(generator, batch=8), torch.randint(0, 3, (8,), generator=generator)
        loss = torch.nn.functional.cross_entropy(model(x).mean(0) * 10, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def cuba_net(seed: int = 0) -> nn.Sequential:
    """Two CubaLIF layers: per-neuron tau (log-normal), tau_s and threshold (randomised), then decay_input=False with
    tau_s per channel and one learned threshold; v_reset = 0, as Norse's NIR import needs."""
    torch.manual_seed(seed)
    first = CubaLIF(tau=3.0, tau_shape="neuron", tau_init="lognormal", tau_std=1.5, synaptic_tau=2.5, synaptic_shape="neuron",
                    shape=(12,), threshold="neuron", v_threshold=0.8)  # fmt: skip
    second = CubaLIF(tau=2.0, synaptic_tau=4.0, synaptic_shape="channel", shape=(6,), decay_input=False, threshold="layer")
    with torch.no_grad():
        first.synaptic_logit.add_(torch.randn(12))
        first.threshold_param.add_(torch.randn(12) * 0.3)
        second.synaptic_logit.add_(torch.randn(6))
    return strengthen(nn.Sequential(TimeDistributed(nn.Linear(10, 12)), first, TimeDistributed(nn.Linear(12, 6)), second), 2.0)


def dense_input(generator: torch.Generator, steps: int = 12, batch: int = 3, features: int = 10) -> torch.Tensor:
    """Random non-negative inputs [T, B, features] for the dense test networks."""
    return torch.rand(steps, batch, features, generator=generator) * 1.5


def trained(model: nn.Module, draw: Callable[[torch.Generator], torch.Tensor], steps: int = 3) -> nn.Module:
    """``model`` after a few Adam steps pulling each output's firing rate towards 0.3, so its dynamics are learned ones."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(321)
    for _ in range(steps):
        loss = (model(draw(generator)).mean(0) - 0.3).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def neuron_layers(model: nn.Module) -> dict[str, BaseNeuron]:
    """The spiking layers of ``model`` by their NIR node names: dots as underscores, an imported graph's ``layers.`` left out."""
    prefix = "layers." if isinstance(model, GraphNetwork) else ""
    return {name.removeprefix(prefix).replace(".", "_"): m for name, m in model.named_modules() if isinstance(m, BaseNeuron)}


def _run_hooked(model: nn.Module, x: torch.Tensor, hook_for: Callable[[str], Callable]) -> None:
    """Run ``model`` on ``x`` with the forward hook ``hook_for(name)`` on each spiking layer, then remove them."""
    hooks = [m.register_forward_hook(hook_for(name)) for name, m in neuron_layers(model).items()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()


def spikes_by_layer(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The output spikes [T, B, ...] of every spiking layer of ``model`` on ``x``."""
    records: dict[str, torch.Tensor] = {}
    _run_hooked(model, x, lambda name: lambda _module, _inputs, out: records.__setitem__(name, out.detach()))
    return records


def threshold_margin(model: nn.Module, x: torch.Tensor) -> float:
    """The least |H - V_th| over every spiking layer, step and neuron of ``model`` on ``x``.

    Two computations of a network that differ only by float rounding (a folded batch norm, a
    peer's own arithmetic) give the same spikes wherever this margin exceeds their difference.
    """
    margins: list[float] = []

    def record(module: BaseNeuron, inputs: tuple[torch.Tensor], _out: torch.Tensor) -> None:
        _, h = module.forward(inputs[0], return_v=True)  # forward(): no hooks, no recursion
        threshold = module.threshold_value()  # a number, or a tensor per layer, channel or neuron
        if isinstance(threshold, torch.Tensor):
            threshold = broadcastable(threshold.detach(), tuple(h.shape[2:])).to(h.dtype)
        margins.append(float((h - threshold).abs().min()))

    _run_hooked(model, x, lambda _name: record)
    return min(margins)


def clear_input(model: nn.Module, draw: Callable[[torch.Generator], torch.Tensor], margin: float = 1e-4) -> torch.Tensor:
    """The first of a few seeded inputs whose potentials all stay ``margin`` away from the thresholds."""
    for seed in range(20):
        x = draw(torch.Generator().manual_seed(seed))
        if threshold_margin(model, x) > margin:
            return x
    raise AssertionError("no seeded input kept every potential away from the thresholds")


def event_frames(generator: torch.Generator, steps: int = 6, batch: int = 3, shape: tuple[int, ...] = (2, 8, 8)) -> torch.Tensor:
    """Random event counts (0, 1 or 2 per pixel and step), as integrated neuromorphic frames are."""
    return torch.randint(0, 3, (steps, batch, *shape), generator=generator).float()


def firing_rates(spikes: dict[str, torch.Tensor]) -> dict[str, float]:
    """The mean spike rate of each layer: a test means something only when they are neither 0 nor 1."""
    return {name: float(s.mean()) for name, s in spikes.items()}

"""Training with compact_activations is bit-identical to training without: losses, gradients, parameters, BN buffers."""

from __future__ import annotations

from functools import partial

import pytest
import torch

import spikedyn.neurons as neurons
from spikedyn.losses import get_loss
from spikedyn.models import build_model
from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.surrogate import Sigmoid, Surrogate, Triangle
from tests.memory.helpers import PackSpy, assert_identical, train_steps

pytestmark = pytest.mark.slow

T, B = 2, 2


class ScaledATan(Surrogate):
    """A user-defined surrogate (no KERNEL_ID): the fused backend runs its torch kernel for it."""

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return 1.0 / (1.0 + (3.0 * x).square())

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.atan(3.0 * x) / 3.0


def _frames(channels: int, size: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 3, (T, B, channels, size, size), generator=generator).float()


def _image(channels: int, size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(B, channels, size, size, generator=generator).mul(2.0).unsqueeze(0).expand(T, -1, -1, -1, -1).contiguous()


def _check(model: torch.nn.Module, x: torch.Tensor, loss: str = "sdt", monkeypatch=None, **options) -> None:
    labels = torch.arange(B) % 10
    loss_fn = get_loss(loss)
    plain = train_steps(model, x, labels, loss_fn, None)
    spy = PackSpy(monkeypatch) if monkeypatch is not None else None
    compact = train_steps(model, x, labels, loss_fn, options)
    assert_identical(plain, compact)
    if spy is not None:
        assert spy.packed, "nothing was packed"
        spy.check_levels()


PLIF_NETS = {
    "plif_layer": {},
    "plif_neuron_tau_imp": {"neuron": partial(PLIF, tau=2.0, tau_shape="neuron", imp="neuron")},
    "lif_soft_reset": {"neuron": partial(LIF, tau=2.0, v_reset=None, decay_input=False)},
    "if_not_detached_sigmoid": {"neuron": partial(IF, detach_reset=False, surrogate=Sigmoid())},
    "user_surrogate": {"neuron": partial(PLIF, tau=2.0, surrogate=ScaledATan())},
    "reference_backend": {"neuron": partial(PLIF, tau=2.0, backend="reference", imp="channel")},
    "avg_pooling": {"pooling": "avg"},
}


@pytest.mark.parametrize("variant", sorted(PLIF_NETS))
def test_plifnet_trains_identically(variant, monkeypatch):
    """plifnet_mnist with dropout, max or average pooling, and IF, LIF, PLIF (+ per-neuron tau, IMP) on every backend path."""
    _check(build_model("plifnet_mnist", input_size=12, **PLIF_NETS[variant]), _frames(1, 12), loss="mse_rate", monkeypatch=monkeypatch)


def test_static_encoder_expand_view_trains_identically(monkeypatch):
    """The static encoder feeds the first neuron a broadcast view of one BN output: H is rebuilt through it."""
    model = build_model("plifnet_mnist", input_size=12, static_encoder=True, time_steps=T)
    _check(model, _image(1, 12), loss="mse_rate", monkeypatch=monkeypatch)


@pytest.mark.parametrize("connect", ["add", "iand"])
def test_sew_resnet_trains_identically(connect, monkeypatch):
    """SEW-ResNet-18 (IF, reset not detached): block sums packed as bytes, spikes as bits, every H recomputed."""
    model = build_model("sew_resnet18", input_size=16, num_classes=10, connect=connect)
    _check(model, _image(3, 16), monkeypatch=monkeypatch)


def test_vgg_with_tebn_and_imp_trains_identically(monkeypatch):
    """VGG-11 of the IMP paper: TEBN (a scale per step), average pooling of spikes, LIF with IMP, triangle surrogate."""
    neuron = partial(LIF, tau=4.0 / 3.0, decay_input=False, detach_reset=False, surrogate=Triangle(), imp="neuron")
    model = build_model("vgg11_imp", neuron=neuron, time_steps=T, input_size=16)
    _check(model, _frames(2, 16), monkeypatch=monkeypatch)


def test_bytes_format_and_no_recompute_train_identically():
    """The other options: spikes as one byte each, and H kept."""
    model = build_model("plifnet_mnist", input_size=12)
    _check(model, _frames(1, 12), loss="mse_rate", spikes="bytes")
    _check(model, _frames(1, 12), loss="mse_rate", recompute=False)


def test_cpu_autocast_trains_identically():
    """Under bf16 autocast the recomputation replays the forward's autocast state."""
    model = build_model("plifnet_mnist", input_size=12)
    labels = torch.arange(B) % 10
    loss_fn = get_loss("mse_rate")

    def autocast_loss(y, target):
        return loss_fn(y.float(), target)

    class Autocast(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return self.inner(x)

    wrapped = Autocast(model)
    x = _frames(1, 12)
    assert_identical(train_steps(wrapped, x, labels, autocast_loss, None), train_steps(wrapped, x, labels, autocast_loss, {}))


@pytest.mark.skipif(not hasattr(neurons, "ALIF"), reason="no ALIF in this tree")
def test_extended_neuron_trains_identically(monkeypatch):
    """An ALIF (extended dynamics, reference path): its spikes are packed, its saved tensors kept."""
    _check(build_model("plifnet_mnist", input_size=12, neuron=partial(neurons.ALIF, tau=2.0)), _frames(1, 12), loss="mse_rate", monkeypatch=monkeypatch)

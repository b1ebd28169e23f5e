"""Compaction never packs a tensor that is not what its mark says: marks come from construction and are dropped on doubt."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikedyn.layers import TimeDistributed
from spikedyn.losses import get_loss
from spikedyn.memory import compact_activations
from spikedyn.neurons import PLIF
from spikedyn.surrogate import ATan
from tests.memory.helpers import PackSpy, assert_identical, train_steps

T, B, C, S = 2, 2, 4, 6


class HalveInPlace(nn.Module):
    """Writes over its input: the spikes' storage now holds 0 and 0.5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul_(0.5)


class PotentialNeuron(PLIF):
    """A neuron subclass whose forward returns H, not spikes: its outputs must never be marked."""

    def forward(self, x: torch.Tensor, return_v: bool = False):
        return super().forward(x, return_v=True)[1]


class SoftSpike(ATan):
    """A surrogate whose forward is smooth (sigmoid), not the Heaviside step."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(4.0 * x)


class DropAndRefill(nn.Module):
    """Fires, drops the spikes, then hands on a fresh non-binary tensor of the same size (likely at the same address)."""

    def __init__(self) -> None:
        super().__init__()
        self.neuron = PLIF(tau=2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spikes = self.neuron(x)
        size = spikes.shape
        del spikes
        return torch.randn(size) * x


def _net(middle: nn.Module) -> nn.Module:
    return nn.Sequential(
        TimeDistributed(nn.Conv2d(1, C, 3, padding=1, bias=False), nn.BatchNorm2d(C)),
        middle,
        TimeDistributed(nn.Conv2d(C, C, 3, padding=1, bias=False)),
        TimeDistributed(nn.Flatten(), nn.Linear(C * S * S, 10)),
    )


def _frames() -> torch.Tensor:
    return torch.rand(T, B, 1, S, S, generator=torch.Generator().manual_seed(0)) * 4


CASES = {
    "written in place after firing": nn.Sequential(PLIF(tau=2.0, backend="reference"), HalveInPlace()),
    "neuron subclass returning H": PotentialNeuron(tau=2.0),
    "smooth surrogate on the reference path": PLIF(tau=2.0, surrogate=SoftSpike(), backend="reference"),
    "spikes freed, memory reused": DropAndRefill(),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_tensor_that_is_not_spikes_is_never_packed(case, monkeypatch):
    """Each case hands the second conv values other than 0/1 where spikes would be: they are kept, gradients stay exact."""
    model, x, labels, loss_fn = _net(CASES[case]), _frames(), torch.arange(B) % 10, get_loss("sdt")
    spy = PackSpy(monkeypatch)
    torch.manual_seed(0)
    plain = train_steps(model, x, labels, loss_fn, None)
    torch.manual_seed(0)
    compact = train_steps(model, x, labels, loss_fn, {})
    assert_identical(plain, compact)
    spy.check_levels()
    assert all(values.unique().tolist() in ([0.0], [1.0], [0.0, 1.0]) for values, _ in spy.packed)


def test_spikes_are_packed_where_they_are(monkeypatch):
    """The control: a plain neuron in the same place has its spikes packed as bits."""
    spy = PackSpy(monkeypatch)
    model = _net(PLIF(tau=2.0))
    with compact_activations(model) as stats:
        model(_frames()).sum().backward()
    assert stats.packed_storages == 1 and len(spy.packed) == 1
    spy.check_levels()


def test_a_neuron_fed_by_something_else_than_bn_keeps_its_potential():
    """H is recomputed only from a BN output consumed as is; a neuron after a linear layer keeps its H."""
    model = nn.Sequential(TimeDistributed(nn.Flatten(), nn.Linear(S * S, 8)), PLIF(tau=2.0), TimeDistributed(nn.Linear(8, 10)))
    with compact_activations(model) as stats:
        model(_frames()).sum().backward()
    assert stats.recomputed_potentials == 0 and stats.packed_storages == 1

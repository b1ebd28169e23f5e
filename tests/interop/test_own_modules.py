"""A user's own module whose forward calls its layers one after the other exports as the chain it is; branches are refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikedyn.interop import NIRExportError, from_nir, to_nir
from spikedyn.interop.chain import NotAChain, inference_chain
from spikedyn.layers import TimeDistributed
from spikedyn.neurons import IF, PLIF
from tests.interop.helpers import spikes_by_layer, strengthen

DT = 1e-4


class TwoLayers(nn.Module):
    """What a user writes: layers as attributes, a forward calling them in turn (not in the order they were made)."""

    def __init__(self) -> None:
        super().__init__()
        self.second = TimeDistributed(nn.Linear(12, 4))
        self.first = TimeDistributed(nn.Flatten(), nn.Linear(6, 12))
        self.spikes1 = PLIF(tau=3.0, shape=(12,), tau_shape="neuron")
        self.spikes2 = IF()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spikes2(self.second(self.spikes1(self.first(x))))


class Residual(TwoLayers):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.spikes1(self.first(x))
        return self.spikes2(self.second(hidden) + self.second(hidden))


class Checked(TwoLayers):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != 6:
            raise ValueError("six features")
        return super().forward(x)


def test_the_chain_follows_forward_not_the_order_of_construction() -> None:
    assert [leaf.name for leaf in inference_chain(TwoLayers())] == ["first.layer.0", "first.layer.1", "spikes1", "second.layer", "spikes2"]


def test_a_users_module_round_trips_through_nir_with_the_same_spikes() -> None:
    torch.manual_seed(0)
    model = strengthen(TwoLayers()).eval()
    x = torch.rand(6, 3, 2, 3)
    graph = to_nir(model, x[:, :1], DT)
    imported = from_nir(graph, DT)
    with torch.no_grad():
        assert torch.equal(model(x), imported(x))
    assert spikes_by_layer(model, x)["spikes1"].sum() > 0  # the comparison is not between two silent networks


@pytest.mark.parametrize("model", [Residual(), Checked()], ids=["residual", "data-dependent"])
def test_a_forward_that_is_not_a_chain_is_refused_by_name(model: nn.Module) -> None:
    with pytest.raises(NotAChain, match=r"the model \(\w+\) has layers of its own but is not a chain"):
        inference_chain(model)
    with pytest.raises((NIRExportError, NotAChain)):
        to_nir(model, torch.zeros(2, 1, 2, 3), DT)

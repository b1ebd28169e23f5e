"""plifnet_mnist computes what the PLIF authors' SpikingJelly network computes, given the same weights."""

import pytest
import torch

from spikedyn.models import build_model
from spikedyn.neurons import PLIF
from tests.models.spikingjelly_plifnet import spikingjelly_plifnet_mnist

pytest.importorskip("spikingjelly.activation_based")
pytestmark = pytest.mark.oracle


def test_plifnet_mnist_matches_spikingjelly_forward_and_gradients():
    from spikingjelly.activation_based import functional

    torch.manual_seed(0)
    ours = build_model("plifnet_mnist", dropout=0.0).double()
    theirs = spikingjelly_plifnet_mnist(dropout=0.0).double()
    ours_params, their_params = list(ours.parameters()), list(theirs.parameters())
    assert [p.shape for p in ours_params] == [p.shape for p in their_params]
    with torch.no_grad():
        for plif in (m for m in ours.modules() if isinstance(m, PLIF)):
            plif.tau_logit.add_(torch.rand(()) - 0.5)  # leave tau_0 = 2 so a wrong decay would show
        for linear in (m for m in ours.modules() if isinstance(m, torch.nn.Linear)):
            linear.weight.mul_(8.0)  # enough drive that every layer fires
        for mine, other in zip(ours_params, their_params):
            other.copy_(mine)
    x = torch.rand(6, 3, 1, 28, 28, dtype=torch.float64)
    y_ours, y_theirs = ours(x), theirs(x)
    assert 0.05 < y_ours.mean() < 0.95
    torch.testing.assert_close(y_ours, y_theirs)
    g = torch.randn_like(y_ours)
    y_ours.backward(g)
    y_theirs.backward(g)
    functional.reset_net(theirs)
    for (name, mine), other in zip(ours.named_parameters(), their_params):
        torch.testing.assert_close(mine.grad, other.grad, msg=lambda m: f"{name}: {m}")

"""External oracle: SpikingJelly's ParametricLIFNode, the PLIF paper authors' implementation.

Needs spikingjelly 2.0.0 (installed by scripts/setup.sh); skipped where it is absent. On the CPU its
ParametricLIFNode runs its Torch reference (a loop over T with autograd through the surrogate).
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import PLIF

pytestmark = pytest.mark.oracle
sj = pytest.importorskip("spikingjelly.activation_based.neuron", reason="spikingjelly 2.0.0 is not installed")
from spikingjelly.activation_based import functional, surrogate  # noqa: E402


@pytest.mark.parametrize("backend", ["reference", "fused"])
@pytest.mark.parametrize("v_reset", [0.0, None])
@pytest.mark.parametrize("tau", [2.0, 16.0])
@pytest.mark.parametrize(
    "decay_input, detach_reset", [(True, True), (False, True), (True, False), (False, False)],
    ids=["paper", "no-decay-input", "reset-in-graph", "both-off"],
)  # fmt: skip
def test_plif_layer_tau_matches_spikingjelly(backend, v_reset, tau, decay_input, detach_reset):
    torch.manual_seed(7)
    theirs = sj.ParametricLIFNode(init_tau=tau, decay_input=decay_input, detach_reset=detach_reset, step_mode="m",
                                  v_reset=v_reset, surrogate_function=surrogate.ATan())  # fmt: skip
    ours = PLIF(tau, tau_shape="layer", v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset, backend=backend)
    with torch.no_grad():
        ours.tau_logit.copy_(theirs.w.detach().reshape(()) + 0.3)
        theirs.w.add_(0.3)
    x = torch.randn(8, 4, 6, 5) * 1.5 + 0.6
    if decay_input:
        x = x * (tau / 2)  # decay_input divides the input by tau
    weights = torch.randn_like(x)

    x_theirs = x.clone().requires_grad_(True)
    functional.reset_net(theirs)
    spikes_theirs = theirs(x_theirs)
    (spikes_theirs * weights).sum().backward()

    x_ours = x.clone().requires_grad_(True)
    spikes_ours = ours(x_ours)
    (spikes_ours * weights).sum().backward()

    assert spikes_theirs.sum() > 0
    assert torch.equal(spikes_ours, spikes_theirs)
    torch.testing.assert_close(x_ours.grad, x_theirs.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.tau_logit.grad.reshape(()), theirs.w.grad.reshape(()), rtol=1e-5, atol=1e-5)

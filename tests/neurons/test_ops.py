"""The custom operators themselves: schema, fake (meta) implementations and autograd registration.

torch.library.opcheck runs each operator for real, under fake tensors and through AOTAutograd
with dynamic shapes, and checks that they agree with its schema and its registered autograd.
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.neurons.backends import ops
from spikedyn.surrogate import Sigmoid, Triangle
from tests.neurons.helpers import firing_input

NEURONS = {
    "PLIF-neuron+IMP": lambda: PLIF(2.5, shape=(3, 4), tau_shape="neuron", tau_init="lognormal", tau_std=1.0, imp="neuron"),
    "PLIF-channel+IMP-channel, soft": lambda: PLIF(shape=(3, 4), tau_shape="channel", imp="channel", v_reset=None),
    "LIF, no decay_input, triangle": lambda: LIF(4 / 3, shape=(3, 4), decay_input=False, surrogate=Triangle()),
    "IF+IMP, sigmoid, reset kept": lambda: IF(shape=(3, 4), imp="neuron", detach_reset=False, surrogate=Sigmoid()),
}


def _forward_args(neuron, x: torch.Tensor, keep_h: bool = True) -> tuple:
    k_param, k_is_logit = neuron.decay_parameter()
    return (x, k_param, neuron.imp, "fused", *ops.dynamics_args(neuron.dynamics), k_is_logit, keep_h, False)


@pytest.mark.parametrize("name", NEURONS)
def test_forward_operator_passes_opcheck(name):
    neuron = NEURONS[name]()
    x = firing_input(5, 2, 3, 4).requires_grad_()
    torch.library.opcheck(torch.ops.spikedyn.neuron_forward.default, _forward_args(neuron, x))


@pytest.mark.parametrize("name", NEURONS)
def test_backward_operators_pass_opcheck(name):
    """They run inside the forward's backward and are not differentiated themselves (no double backward)."""
    neuron = NEURONS[name]().requires_grad_(False)
    x = firing_input(5, 2, 3, 4)
    _, h = torch.ops.spikedyn.neuron_forward(*_forward_args(neuron, x))
    k_param, k_is_logit = neuron.decay_parameter()
    grads = (torch.randn_like(h), None, k_param, neuron.imp, "fused", *ops.dynamics_args(neuron.dynamics))
    flags = (k_is_logit, k_is_logit, neuron.imp is not None)
    torch.library.opcheck(torch.ops.spikedyn.neuron_backward.default, (h, *grads, *flags))
    torch.library.opcheck(torch.ops.spikedyn.neuron_backward_.default, (h.clone(), *grads, *flags))


def test_a_user_surrogate_cannot_cross_the_operator_boundary_and_takes_the_torch_path():
    class Custom(Sigmoid):
        KERNEL_ID = None

    neuron = PLIF(shape=(4,), surrogate=Custom())
    with pytest.raises(TypeError, match="KERNEL_ID"):
        ops.dynamics_args(neuron.dynamics)
    x = firing_input(3, 2, 4).requires_grad_()
    neuron(x).sum().backward()
    assert x.grad is not None and neuron.tau_logit.grad is not None

"""torch.autograd.gradcheck of the fused backend in float64.

Finite differences see the Heaviside step as flat, so they cannot check the surrogate path
(that is checked against the reference's autograd in test_backend_equivalence). What they
can check exactly is every other term of the closed form: the charge, the leak, the detached
reset, dL/da for each tau_shape and dL/dIMP, through the potentials H.
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons.backends.fused import run_fused
from tests.neurons.helpers import FLOAT64_KERNELS, KINDS, forced_kernel, make_neuron

SHAPE = (2, 3)


@pytest.mark.parametrize("kernel", FLOAT64_KERNELS)
@pytest.mark.parametrize("kind,decay_input", [("IF", True)] + [(k, d) for k in KINDS[1:] for d in (True, False)])
@pytest.mark.parametrize("v_reset", [0.0, None])
def test_fused_potentials_pass_gradcheck(kind, v_reset, decay_input, kernel):
    torch.manual_seed(3)
    neuron = make_neuron(kind, SHAPE, imp="neuron", v_reset=v_reset, detach_reset=True, decay_input=decay_input)
    neuron = neuron.double()
    k_param, k_is_logit = neuron.decay_parameter()
    x = (torch.randn(5, 2, *SHAPE, dtype=torch.float64) * 1.5 + 0.6).requires_grad_(True)
    inputs = [x, neuron.imp]
    if k_is_logit:
        inputs.append(k_param)

    def potentials(x, v0, *k):
        return run_fused(x, neuron.dynamics, k[0] if k else k_param, k_is_logit, v0, return_v=True)[1]

    with forced_kernel(kernel):
        assert torch.autograd.gradcheck(potentials, tuple(inputs), eps=1e-6, atol=1e-7)

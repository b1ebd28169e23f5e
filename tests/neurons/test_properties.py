"""Property tests: random shapes, tau (extremes included), IMP and inputs never give NaN or Inf."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spikedyn.neurons import PLIF, use_backend
from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Triangle

pytestmark = pytest.mark.property

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
taus = st.one_of(st.floats(1.0001, 1.01), st.floats(1.01, 100.0), st.floats(100.0, 1e6))
surrogates = st.sampled_from([ATan(), Sigmoid(), Triangle(), Rectangular()])


@settings(max_examples=60, deadline=None)
@given(
    shape=shapes,
    steps=st.integers(1, 6),
    batch=st.integers(1, 3),
    tau=taus,
    tau_shape=st.sampled_from(["layer", "channel", "neuron"]),
    imp=st.sampled_from([None, "channel", "neuron"]),
    imp_scale=st.floats(0.0, 50.0),
    v_reset=st.sampled_from([0.0, None, -0.5]),
    decay_input=st.booleans(),
    detach_reset=st.booleans(),
    surrogate=surrogates,
    scale=st.floats(1e-3, 1e3),
    backend=st.sampled_from(["reference", "fused"]),
    seed=st.integers(0, 2**16),
)
def test_outputs_and_gradients_stay_finite(
    shape, steps, batch, tau, tau_shape, imp, imp_scale, v_reset, decay_input, detach_reset, surrogate, scale, backend, seed
):
    torch.manual_seed(seed)
    neuron = PLIF(tau, shape=shape, tau_shape=tau_shape, imp=imp, imp_init_range=(-imp_scale, imp_scale),
                  v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset, surrogate=surrogate)  # fmt: skip
    x = (torch.randn(steps, batch, *shape) * scale).requires_grad_(True)
    with use_backend(backend):
        spikes, h = neuron(x, return_v=True)
    (spikes * torch.randn_like(spikes)).sum().backward()
    assert torch.isfinite(spikes).all() and torch.isfinite(h).all()
    for name, tensor in [("x", x.grad), *((n, p.grad) for n, p in neuron.named_parameters())]:
        assert tensor is not None and torch.isfinite(tensor).all(), f"gradient of {name} is not finite"


@settings(max_examples=40, deadline=None)
@given(shape=shapes, steps=st.integers(1, 5), tau=taus, seed=st.integers(0, 2**16))
def test_fused_and_reference_agree_on_random_problems(shape, steps, tau, seed):
    torch.manual_seed(seed)
    neuron = PLIF(tau, shape=shape, tau_shape="neuron", imp="neuron")
    x = torch.randn(steps, 2, *shape) * 2
    with use_backend("reference"):
        expected = neuron(x)
    with use_backend("fused"):
        assert torch.equal(neuron(x), expected)

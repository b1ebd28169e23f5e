"""What only the Triton kernels do: low-precision storage, chunked batch sums, reproducibility, errors.

Without a GPU they run on CPU tensors through Triton's interpreter (tests/conftest.py sets
TRITON_INTERPRET=1); the option grid against the reference is in test_backend_equivalence.
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import PLIF, use_backend
from spikedyn.neurons.backends import selection
from spikedyn.surrogate import Surrogate
from tests.neurons.helpers import TRITON_ON_CPU, firing_input, make_neuron, needs_triton_on_cpu, run_with_grads

pytestmark = needs_triton_on_cpu


def _triton_kernel():
    from spikedyn.neurons.backends import triton_kernel

    return triton_kernel


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_storage_tracks_float32(dtype):
    """bf16/fp16 storage, fp32 arithmetic: spikes in the input's dtype, close to a float32 run."""
    torch.manual_seed(0)
    neuron = make_neuron("PLIF-neuron", (4, 6), imp="neuron")
    x = firing_input(8, 16, 4, 6).to(dtype)
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x.float(), weights)
    with use_backend("triton"):
        got = run_with_grads(neuron, x, weights.to(dtype))
    assert got[0].dtype == dtype and got[2]["x"].dtype == dtype
    agreement = (got[0].float() == expected[0]).float().mean().item()
    assert agreement > 0.98, f"only {agreement:.3f} of the spikes agree with float32"
    for name in ("tau_logit", "imp"):
        error = (got[2][name] - expected[2][name]).norm() / expected[2][name].norm()
        assert error < 0.05, f"gradient of {name} is {error:.3f} away from float32"


def test_low_precision_h_is_what_fired():
    """H is rounded to its storage type before it fires, so the kept H and the spikes agree exactly."""
    neuron = make_neuron("PLIF-layer", (5,))
    x = firing_input(6, 8, 5).bfloat16()
    with use_backend("triton"):
        spikes, h = neuron(x, return_v=True)
    assert torch.equal(spikes, (h >= neuron.dynamics.v_threshold).to(spikes.dtype))


def test_batch_sums_in_chunks_match_reference_and_are_bit_reproducible():
    """Enough rows that each program sums several and the chunks are summed again: same result twice."""
    triton_kernel = _triton_kernel()
    neuron = make_neuron("PLIF-neuron", (5,), imp="neuron")
    x = firing_input(5, 256, 5)
    assert triton_kernel._rows_per_program(256, 1, x.device) > 1
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    with use_backend("triton"):
        first = run_with_grads(neuron, x, weights)
        second = run_with_grads(neuron, x, weights)
    for name, grad in expected[2].items():
        torch.testing.assert_close(first[2][name], grad, rtol=1e-5, atol=1e-5)
        assert torch.equal(first[2][name], second[2][name]), f"gradient of {name} differs between runs"


def test_triton_refuses_what_it_cannot_run(monkeypatch):
    neuron = PLIF(shape=(3,), backend="triton")
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        neuron(torch.ones(2, 1, 3, dtype=torch.float64))

    class Custom(Surrogate):
        def derivative(self, x):
            return torch.ones_like(x)

    with pytest.raises(TypeError, match="built-in surrogates"):
        PLIF(shape=(3,), backend="triton", surrogate=Custom())(torch.ones(2, 1, 3))
    monkeypatch.setattr(_triton_kernel(), "INTERPRETED", False)
    with pytest.raises(RuntimeError, match="CUDA tensors.*TRITON_INTERPRET=1"):
        neuron(torch.ones(2, 1, 3))


def test_auto_keeps_the_cpu_on_numba_even_with_the_interpreter():
    assert TRITON_ON_CPU
    assert selection.select_kernel("auto", torch.ones(1, 1, 1), PLIF().dynamics) == "numba"

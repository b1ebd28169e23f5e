"""What only the extended Triton kernels do: low-precision storage of H, I and a, chunked batch sums, reproducibility.

Without a GPU they run on CPU tensors through Triton's interpreter (tests/conftest.py sets TRITON_INTERPRET=1).
"""

from __future__ import annotations

import pytest
import torch

from spikedyn.neurons import ALIF, PLIF, CubaLIF, use_backend
from tests.neurons.helpers import firing_input, needs_triton_on_cpu, run_with_grads

pytestmark = needs_triton_on_cpu
SHAPE = (4, 6)
LOW_PRECISION = {
    "ALIF": lambda: ALIF(2.5, shape=SHAPE, tau_shape="neuron", adaptation_shape="neuron", adaptation_strength=0.3, imp="neuron", threshold="channel"),
    "CubaLIF": lambda: CubaLIF(2.5, shape=SHAPE, synaptic_shape="channel", synaptic_tau=3.0, imp="neuron", threshold="neuron"),
}  # fmt: skip


def _triton_extended():
    from spikedyn.neurons.backends import triton_extended

    return triton_extended


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", LOW_PRECISION)
def test_low_precision_storage_tracks_float32(name, dtype):
    """bf16/fp16 storage of H, I and a, fp32 arithmetic: outputs in the input's dtype, close to a float32 run.

    Hard reset: with a soft reset bf16's rounding of H carries over from step to step, and a few
    flipped spikes move the gradients by up to 10% (the classic PLIF's too); float32 is checked exactly elsewhere.
    """
    torch.manual_seed(0)
    neuron = LOW_PRECISION[name]()
    x = firing_input(8, 16, *SHAPE).to(dtype)
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x.float(), weights)
    with use_backend("triton"):
        got = run_with_grads(neuron, x, weights.to(dtype))
    assert got[0].dtype == dtype and got[2]["x"].dtype == dtype
    agreement = (got[0].float() == expected[0]).float().mean().item()
    assert agreement > 0.97, f"only {agreement:.3f} of the spikes agree with float32"
    for param, grad in expected[2].items():
        error = ((got[2][param].float() - grad).norm() / grad.norm()).item()
        assert error < 0.05, f"gradient of {param} is {error:.3f} away from float32"


def test_low_precision_h_is_what_fired():
    """H is rounded to its storage type before it fires: the kept H and the spikes agree exactly with the learned threshold."""
    neuron = CubaLIF(shape=(5,), threshold="neuron", synaptic_tau=3.0)
    with torch.no_grad():
        neuron.threshold_param.add_(torch.linspace(-0.3, 0.3, 5))
    x = firing_input(6, 8, 5).bfloat16()
    with use_backend("triton"):
        spikes, h = neuron(x, return_v=True)
    assert torch.equal(spikes, (h.float() - neuron.threshold_value() >= 0).to(spikes.dtype))
    assert 0 < spikes.float().mean() < 1


def test_batch_sums_in_chunks_match_reference_and_are_bit_reproducible(monkeypatch):
    """Enough rows that each program sums several and the chunks are summed again: same result twice."""
    triton_extended = _triton_extended()
    chunk_counts = []
    original = triton_extended._sum_over_chunks
    monkeypatch.setattr(triton_extended, "_sum_over_chunks", lambda part: chunk_counts.append(part.shape[0]) or original(part))
    neuron = ALIF(shape=(5,), tau_shape="neuron", adaptation_shape="neuron", imp="neuron", threshold="neuron", v_reset=None)
    x = firing_input(5, 256, 5)
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights)
    with use_backend("triton"):
        first = run_with_grads(neuron, x, weights)
        second = run_with_grads(neuron, x, weights)
    assert chunk_counts and 1 < min(chunk_counts) < 256, f"chunks of rows: {chunk_counts}"
    for name, grad in expected[2].items():
        torch.testing.assert_close(first[2][name], grad, rtol=1e-5, atol=1e-5)
        assert torch.equal(first[2][name], second[2][name]), f"gradient of {name} differs between runs"


def test_triton_refuses_float64_for_extended_neurons():
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        PLIF(shape=(3,), backend="triton", threshold="layer")(torch.ones(2, 1, 3, dtype=torch.float64))

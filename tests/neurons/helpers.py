"""Builders shared by the neuron tests: a neuron for each kind, inputs that fire, forced kernels."""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator

import pytest
import torch

from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.neurons.backends import selection

KINDS = ("IF", "LIF", "PLIF-layer", "PLIF-channel", "PLIF-neuron")
TRITON_ON_CPU = importlib.util.find_spec("triton") is not None and os.environ.get("TRITON_INTERPRET") == "1"
needs_triton_on_cpu = [
    pytest.mark.triton,
    pytest.mark.skipif(not TRITON_ON_CPU, reason="needs triton with TRITON_INTERPRET=1 (set by tests/conftest.py without a GPU)"),
]
# Every fused kernel, run on CPU tensors: Triton's through its interpreter.
CPU_KERNELS = ("numba", "torch", pytest.param("triton", marks=needs_triton_on_cpu))
FLOAT64_KERNELS = ("numba", "torch")  # Triton stores float32/bfloat16/float16 only


def make_neuron(kind: str, shape: tuple[int, ...], **options) -> torch.nn.Module:
    """A neuron of ``kind`` with tau_0 = 2.5 (per-neuron tau log-normal, so values differ)."""
    if kind == "IF":
        options.pop("decay_input", None)
        return IF(shape=shape, **options)
    if kind == "LIF":
        return LIF(2.5, shape=shape, **options)
    tau_shape = kind.split("-")[1]
    spread = {"tau_init": "lognormal", "tau_std": 1.0} if tau_shape != "layer" else {}
    return PLIF(2.5, shape=shape, tau_shape=tau_shape, **spread, **options)


def firing_input(*size: int, generator: torch.Generator | None = None, dtype=torch.float32) -> torch.Tensor:
    """Random input that makes a fair share of neurons fire (mean 0.6, std 1.5)."""
    return (torch.randn(*size, generator=generator, dtype=dtype) * 1.5 + 0.6)


@contextlib.contextmanager
def forced_kernel(name: str) -> Iterator[None]:
    """Make the fused backend use one kernel ("numba", "torch" or "triton") regardless of device and dtype."""
    original = selection.select_kernel
    selection.select_kernel = lambda backend, x, dyn: name
    try:
        yield
    finally:
        selection.select_kernel = original


def run_with_grads(neuron: torch.nn.Module, x: torch.Tensor, weights: torch.Tensor, return_v: bool = False):
    """Spikes (and H), then the gradients of sum(weights * spikes [+ H]) for x and every parameter."""
    neuron.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_(True)
    out = neuron(x, return_v=return_v)
    spikes, h = out if return_v else (out, None)
    loss = (weights * spikes).sum()
    if h is not None:
        loss = loss + (weights.flip(0) * h).sum()
    loss.backward()
    grads = {"x": x.grad}
    grads.update({name: p.grad for name, p in neuron.named_parameters()})
    return spikes.detach(), None if h is None else h.detach(), grads

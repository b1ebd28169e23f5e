"""Backends that run a neuron over all T steps, and how one is chosen.

- ``reference``: the pure step function in a loop under autograd (the oracle).
- ``fused``: one custom operator with the closed-form backward: numba kernels on the CPU,
  the same closed form in torch ops on other devices.
- ``triton``: the same operator with Triton kernels (CUDA tensors; CPU tensors only under
  Triton's interpreter).
- ``auto``: the fastest for the input: ``triton`` for CUDA tensors when Triton imports,
  ``fused`` otherwise.

Choose globally with :func:`set_default_backend` or :func:`use_backend`, or per module with
the neuron's ``backend=`` argument.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from spikedyn.neurons.backends.extended_fused import run_extended_fused
from spikedyn.neurons.backends.fused import run_fused
from spikedyn.neurons.backends.selection import select_kernel
from spikedyn.neurons.backends.reference import run_extended_reference, run_reference
from spikedyn.neurons.dynamics import Dynamics, Quantities

BACKEND_NAMES = ("auto", "reference", "fused", "triton")

_default = "auto"


def check_backend(name: str) -> str:
    """Return ``name`` if it names a backend, else raise a ValueError listing the valid ones."""
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown neuron backend {name!r}; expected one of {list(BACKEND_NAMES)!r}")
    return name


def set_default_backend(name: str) -> None:
    """Set the backend used by neurons constructed with ``backend=None``."""
    global _default
    _default = check_backend(name)


def get_default_backend() -> str:
    """The backend used by neurons constructed with ``backend=None``."""
    return _default


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Temporarily change the default backend (``with use_backend("reference"): ...``)."""
    previous = _default
    set_default_backend(name)
    try:
        yield
    finally:
        set_default_backend(previous)


def resolve_backend(name: str | None, x: torch.Tensor) -> str:
    """The backend that runs ``x``: the module's choice, else the default (``auto`` stays ``auto``)."""
    return _default if name is None else name


def run_backend(
    name: str | None, x: torch.Tensor, dyn: Dynamics, k_param, k_is_logit: bool, v0, *, return_v: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run the chosen backend on ``x`` with the neuron's dynamics and parameters: (spikes, H or None)."""
    backend = resolve_backend(name, x)
    if backend == "reference":
        spikes, potentials = run_reference(x, dyn, k_param, k_is_logit, v0)
        return spikes, potentials if return_v else None
    return run_fused(x, dyn, k_param, k_is_logit, v0, return_v=return_v, backend=backend)


def run_extended_backend(
    name: str | None, x: torch.Tensor, dyn: Dynamics, q: Quantities, v0: torch.Tensor | None, *, return_v: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run a neuron with extended dynamics (learned threshold, ALIF, CubaLIF) on the chosen backend: (spikes, H or None)."""
    backend = resolve_backend(name, x)
    if backend == "reference":
        spikes, potentials = run_extended_reference(x, dyn, q, v0)
        return spikes, potentials if return_v else None
    return run_extended_fused(x, dyn, q, v0, return_v=return_v, backend=backend)


def kernel_for(name: str | None, x: torch.Tensor, dyn: Dynamics) -> str:
    """What would run ``x``: "reference", or the fused kernel ("numba", "triton" or "torch")."""
    backend = resolve_backend(name, x)
    return "reference" if backend == "reference" else select_kernel(backend, x, dyn)

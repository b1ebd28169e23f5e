"""Backends that run a neuron over all T steps, and how one is chosen.

- ``reference``: the pure step function in a loop under autograd (the oracle).
- ``fused``: one autograd Function with the closed-form backward (numba on the CPU,
  torch ops on other devices).
- ``auto``: the fastest available for the input's device (``fused`` everywhere today).

Choose globally with :func:`set_default_backend` or :func:`use_backend`, or per module with
the neuron's ``backend=`` argument.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from spikedyn.neurons.backends.fused import run_fused
from spikedyn.neurons.backends.reference import run_reference

BACKENDS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor]]] = {
    "reference": run_reference,
    "fused": run_fused,
}
BACKEND_NAMES = ("auto", *BACKENDS)

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
    """The concrete backend that runs ``x``: the module's choice, else the default, ``auto`` resolved."""
    chosen = _default if name is None else name
    return "fused" if chosen == "auto" else chosen


def run_backend(name: str | None, x: torch.Tensor, *args, return_v: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the resolved backend on ``x`` with the neuron's dynamics and parameters."""
    backend = resolve_backend(name, x)
    if backend == "fused":
        return run_fused(x, *args, return_v=return_v)
    return BACKENDS[backend](x, *args)

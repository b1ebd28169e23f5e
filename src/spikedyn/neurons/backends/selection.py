"""Which kernel runs an input: numba on the CPU, Triton on CUDA, torch ops for everything else.

Chosen when the operator runs, from the input itself, so a compiled or exported graph keeps
the backend's name ("auto", "fused", "triton") and picks the kernel on the device it runs on.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

import torch

from spikedyn.neurons.backends import numba_kernel
from spikedyn.neurons.dynamics import Dynamics

KERNELS = ("numba", "triton", "torch")
TRITON_AVAILABLE = importlib.util.find_spec("triton") is not None
TRITON_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def kernel_module(name: str) -> ModuleType:
    """The module that implements kernel ``name`` (imported on first use: Triton is optional)."""
    if name not in KERNELS:
        raise ValueError(f"unknown neuron kernel {name!r}; expected one of {list(KERNELS)!r}")
    return importlib.import_module(f"spikedyn.neurons.backends.{name}_kernel")


def _triton_suits(x: torch.Tensor, dyn: Dynamics) -> bool:
    return TRITON_AVAILABLE and x.device.type == "cuda" and x.dtype in TRITON_DTYPES and dyn.surrogate.KERNEL_ID is not None


def select_kernel(backend: str, x: torch.Tensor, dyn: Dynamics) -> str:
    """The kernel ("numba", "triton" or "torch") that runs ``x`` for backend "fused", "triton" or "auto".

    A kernel's own name selects that kernel (the tests use this to run every kernel on the CPU).
    """
    if backend == "triton":
        if not TRITON_AVAILABLE:
            raise RuntimeError("backend='triton' needs the triton package (pip install triton); use backend='fused'")
        kernel_module("triton").check_input(x, dyn)
        return "triton"
    if backend in KERNELS:
        return backend
    if backend == "auto" and _triton_suits(x, dyn):
        return "triton"
    return "numba" if numba_kernel.supports(x, dyn) else "torch"

"""Test-session set-up: without a GPU, Triton kernels run on CPU tensors through Triton's interpreter."""

import os

import torch

if not torch.cuda.is_available():
    # Read when spikedyn's Triton kernels are defined (first use), so it must be set before any test runs.
    os.environ.setdefault("TRITON_INTERPRET", "1")

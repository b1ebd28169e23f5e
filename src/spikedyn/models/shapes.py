"""Output sizes of convolution and pooling, so builders know every layer's shape up front."""

from __future__ import annotations


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial size after a convolution or pooling window (floor mode, dilation 1)."""
    out = (size + 2 * padding - kernel_size) // stride + 1
    if out < 1:
        raise ValueError(f"an input of size {size} is too small for kernel {kernel_size}, stride {stride}, padding {padding}")
    return out

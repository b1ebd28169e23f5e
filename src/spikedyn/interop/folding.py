"""Batch norm folded into the conv or linear layer before it, as it computes in eval mode.

BN(W x + b) = s (W x + b - mean) + beta with s = gamma / sqrt(var + eps), one per channel, is
the layer (s W) x + s (b - mean) + beta: the same function. The folded numbers are computed in
float64 and rounded once to the weight's type, so they differ from the two-layer computation
only by that rounding.
"""

from __future__ import annotations

import numpy as np
from torch import nn


def batch_norm_scale_shift(bn: nn.modules.batchnorm._BatchNorm, extra_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(s, t) per channel with BN(y) = s * y + t in eval mode, times ``extra_scale`` (TEBN's p_t)."""
    mean = bn.running_mean.detach().cpu().double().numpy()
    var = bn.running_var.detach().cpu().double().numpy()
    gamma = bn.weight.detach().cpu().double().numpy() if bn.weight is not None else np.ones_like(mean)
    beta = bn.bias.detach().cpu().double().numpy() if bn.bias is not None else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.eps) * extra_scale
    return scale, beta * extra_scale - mean * scale


def fold_into(weight: np.ndarray, bias: np.ndarray | None, scale: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(W', b') of a conv or linear layer (output channels first) followed by y -> scale * y + shift."""
    channels = weight.shape[0]
    if scale.shape != (channels,):
        raise ValueError(f"batch norm has {scale.shape[0]} channels but the layer before it has {channels} outputs")
    w = weight.astype(np.float64) * scale.reshape(channels, *([1] * (weight.ndim - 1)))
    b = (np.zeros(channels) if bias is None else bias.astype(np.float64)) * scale + shift
    return w.astype(weight.dtype), b.astype(weight.dtype)

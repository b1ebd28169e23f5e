"""A CPU batch norm's output again from its saved statistics, skipping the statistics pass: same kernel, same bits.

Training-mode BN computes the batch's mean and 1/std (``save_mean``, ``save_invstd``, which it
saves for backward) and applies x * alpha + beta with alpha = invstd * w, beta = b - mean * alpha.
Eval mode applies the same transform to running statistics, with invstd = rsqrt(var + eps)
computed in the input's dtype. So eval mode with running_mean = save_mean and a var whose
rsqrt(var + eps) rounds to exactly save_invstd gives the training output without the
statistics pass, the slow part on the CPU. Such a var exists for about 86% of channels (the
map skips some floats); the other channels are recomputed in training mode on their own (a
channel's statistics and output do not depend on the other channels). Whether this holds for a
layer's kind of call (dtype, layout, torch build) is checked once, against that call's real
output; where it does not, :mod:`recompute` falls back to the plain training-mode call.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

_INT_VIEWS = {torch.float32: torch.int32, torch.float64: torch.int64}
_ULPS = (0, 1, -1, 2, -2)
MIN_ELEMENTS = 1 << 18  # below this the statistics pass costs less than the replay's few extra small ops (measured)
_VERIFIED: dict[tuple, bool] = {}


def applies(x: torch.Tensor, weight: torch.Tensor | None, stats: tuple[torch.Tensor, torch.Tensor] | None) -> bool:
    """Whether the replay is worth trying: a large CPU input, float32/64 everywhere, the saved statistics at hand."""
    if stats is None or x.device.type != "cpu" or x.dtype not in _INT_VIEWS or x.numel() < MIN_ELEMENTS:
        return False
    return all(t.dtype == x.dtype for t in stats) and (weight is None or weight.dtype == x.dtype)


def matching_variance(invstd: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(var, found) per channel: a var with rsqrt(var + eps) == invstd in invstd's dtype, and where one exists."""
    dtype = invstd.dtype
    guess = (1.0 / invstd.double().square() - eps).to(dtype).view(_INT_VIEWS[dtype])
    epsilon = torch.tensor(eps, dtype=dtype)
    var, found = torch.zeros_like(invstd), torch.zeros_like(invstd, dtype=torch.bool)
    for step in _ULPS:
        candidate = (guess + step).view(dtype)
        hit = ~found & (torch.rsqrt(candidate + epsilon) == invstd)  # as eval mode computes it (checked, see verified)
        var, found = torch.where(hit, candidate, var), found | hit
    return var, found


def replay(x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, stats: tuple[torch.Tensor, torch.Tensor],
           eps: float, force_channels: int = 0) -> torch.Tensor:  # fmt: skip
    """The training-mode output of ``F.batch_norm(x, ..., weight, bias, eps=eps)`` from its saved (mean, invstd).

    ``force_channels`` recomputes that many more channels in training mode (the check uses it
    to exercise both paths).
    """
    mean, invstd = stats
    var, found = matching_variance(invstd, eps)
    found[:force_channels] = False
    y = F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps)
    if not bool(found.all()):
        rest = (~found).nonzero().squeeze(1)
        pick = (lambda t: None if t is None else t.index_select(0, rest))
        y_rest = F.batch_norm(x.index_select(1, rest), None, None, pick(weight), pick(bias), True, 0.0, eps)
        y.index_copy_(1, rest, y_rest)
    return y


def signature(x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None) -> tuple:
    """What decides which CPU kernels a call runs: dtype, rank, layout, threads, affine or not, the torch build."""
    layout = "contiguous" if x.is_contiguous() else "channels_last" if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) else "strided"
    return (x.dtype, x.dim(), layout, weight is not None, bias is not None, torch.get_num_threads(), torch.__version__)


def verified(key: tuple, replayed: Callable[[], torch.Tensor], expected: torch.Tensor) -> bool:
    """Whether ``replayed()`` equals the forward's ``expected`` output bit for bit; checked once per ``key``."""
    if key not in _VERIFIED:
        with torch.no_grad():
            _VERIFIED[key] = torch.equal(replayed(), expected)
    return _VERIFIED[key]

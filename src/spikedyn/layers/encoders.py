"""Spike encoders: turn intensities into spike trains [T, B, ...] (direct, Poisson rate, latency).

Every encoder takes either a batch [B, ...] and ``time_steps`` (built with ``time_steps=T``:
then every input is a batch, however many dims it has) or a sequence [T, B, ...] (built
with ``time_steps=None``). The Poisson and latency encoders pass no gradient to their input.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

ENCODERS = ("direct", "poisson", "latency")

#: What to do when intensities leave [0, 1]; the usual cause is mean/std normalisation.
NORMALISED_HINT = "expected intensities in [0, 1]; the data are normalised (mean/std)? use data.options normalize=false"

#: snnTorch's ``epsilon``: the log latency code treats intensities in (threshold, threshold + LOG_EPSILON] alike.
LOG_EPSILON = 1e-7


def _is_number(value: object) -> bool:
    """Whether ``value`` is a real int or float (bool excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Encoder(nn.Module):
    """Shared argument and input checks: time_steps, floating-point input, batch or sequence."""

    def __init__(self, time_steps: int | None = None) -> None:
        super().__init__()
        if time_steps is not None and (isinstance(time_steps, bool) or not isinstance(time_steps, int) or time_steps < 1):
            raise ValueError(f"{type(self).__name__}: time_steps must be an int >= 1 or None, got {time_steps!r}")
        self.time_steps = time_steps

    def _check_input(self, x: torch.Tensor) -> None:
        """Raise unless ``x`` is a floating-point batch [B, ...] (with time_steps) or sequence [T, B, ...]."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} expects a tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} expects floating-point intensities, got {x.dtype} (convert first, e.g. x.float() / 255)")
        if self.time_steps is not None and x.dim() < 1:
            raise ValueError(f"{name} expects a batch [B, ...], got a 0-dim tensor")
        if self.time_steps is None and x.dim() < 2:
            raise ValueError(
                f"{name} got shape {tuple(x.shape)} and no time_steps: build it with time_steps=T for a batch [B, ...] "
                "or pass a sequence [T, B, ...]"
            )

    def _check_unit_range(self, p: torch.Tensor, what: str, hint: str, tolerance: float = 0.0) -> None:
        """Raise a ValueError unless every value of ``p`` lies in [0, 1 + tolerance] (NaN fails)."""
        if p.numel() == 0:
            return
        low, high = (float(v) for v in torch.aminmax(p))
        if not (low >= 0.0 and high <= 1.0 + tolerance):
            raise ValueError(f"{type(self).__name__} needs {what} in [0, 1], found values in [{low:.6g}, {high:.6g}]; {hint}")

    def extra_repr(self) -> str:
        return f"time_steps={self.time_steps}"


class DirectEncoder(_Encoder):
    """The input current itself at every step: a batch [B, ...] repeated over T, a sequence unchanged.

    S_t = x for t = 0..T-1 (not spikes: the first layer sees the analog intensities, as
    spikedyn has always fed static data). The repetition is a broadcast view (expand), not a
    copy, so it must not be written in place. Gradients pass to the input.

    Example::

        DirectEncoder(time_steps=4)(torch.rand(2, 1, 28, 28)).shape  # (4, 2, 1, 28, 28)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        if self.time_steps is None:
            return x
        return x.unsqueeze(0).expand(self.time_steps, *x.shape)


class PoissonEncoder(_Encoder):
    """Rate coding: S_t ~ Bernoulli(gain * x), independent for every step and element.

    The mean firing rate of an element is gain * x, which must lie in [0, 1]. A batch [B, ...]
    gets ``time_steps`` draws; a sequence [T, B, ...] one draw per step from that step's
    intensities (static frames repeated over T give the usual Poisson encoding). Random
    numbers come from ``generator`` when given (its state is not saved in the state dict),
    else from torch's default generator of the input's device, so ``torch.manual_seed`` at
    the start of each epoch (as the spikedyn trainer does) reproduces the draws. The spikes
    have the input's dtype, values exactly 0 or 1, and pass no gradient to the input.

    Example::

        spikes = PoissonEncoder(time_steps=8, gain=0.5)(torch.rand(2, 784))  # (8, 2, 784), mean ~ 0.5 * x
    """

    def __init__(self, time_steps: int | None = None, gain: float = 1.0, generator: torch.Generator | None = None) -> None:
        super().__init__(time_steps)
        if not _is_number(gain) or not math.isfinite(gain) or gain <= 0:
            raise ValueError(f"PoissonEncoder: gain must be a finite number > 0, got {gain!r}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"PoissonEncoder: generator must be a torch.Generator or None, got {type(generator).__name__}")
        self.gain = float(gain)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        p = x.detach() * self.gain
        # gain = 1 / x.max() can round gain * x one ulp above 1: tolerated, then clamped.
        self._check_unit_range(
            p,
            f"firing probabilities gain * x (gain={self.gain})",
            f"{NORMALISED_HINT}, or a gain that keeps gain * x <= 1",
            tolerance=torch.finfo(p.dtype).eps,
        )
        p = p.clamp(max=1.0)
        if self.time_steps is not None:
            p = p.unsqueeze(0).expand(self.time_steps, *p.shape)
        return torch.bernoulli(p, generator=self.generator)

    def extra_repr(self) -> str:
        generator = "given" if self.generator is not None else "default"
        return f"time_steps={self.time_steps}, gain={self.gain}, generator={generator}"


class LatencyEncoder(_Encoder):
    """Time-to-first-spike coding: each element fires at most once, brighter ones earlier.

    With x in [0, 1] and window T, an element with x > threshold fires once, at step t(x);
    one with x <= threshold never fires (round: to the nearest step, ties to even, as torch.round):

    - ``mode="linear"``: t = round((T - 1) * (1 - x)). x = 1 fires at 0, x -> 0 at T - 1.
    - ``mode="log"`` (RC circuit: a neuron charged by the constant current x crosses the
      threshold after tau * ln(x / (x - threshold))): with L(x) = ln(x / (x - threshold)),
      t = round((T - 1) * L(max(x, threshold + eps)) / L(threshold + eps)), eps = 1e-7.
      The time constant tau cancels in this normalisation, so it is no argument. Intensities
      within eps of the threshold fire at T - 1; x = 1 fires at round((T - 1) * L(1) / L(threshold
      + eps)), which is 0 while (T - 1) * ln(1 / (1 - threshold)) < ln((threshold + eps) / eps) / 2
      (T <= 573 at threshold 0.01). The code is steep: at threshold 0.01 every x above 0.02 fires
      in the first 6% of the window or so.

    snnTorch 1.0's ``spikegen.latency(x, T, threshold, clip=True, normalize=True)`` gives the
    same spikes with ``linear=True`` for every x != threshold (snnTorch fires x == threshold at
    the last step), and with ``linear=False`` (any tau) for every x != threshold when the
    input holds at least one value <= threshold + eps. snnTorch divides by the largest time
    present in the whole tensor instead of L(threshold + eps), so otherwise its code depends on
    the batch (an element's spike time changes with its batchmates); this one never does.
    snnTorch also returns float32 whatever the input; here the spikes have the input's dtype.

    Input: a batch [B, ...] with ``time_steps``, or a sequence [T, B, ...] whose steps are all
    equal (a static image repeated). The spikes are exactly 0/1 and pass no gradient to x.

    Example::

        LatencyEncoder(time_steps=5)(torch.tensor([[1.0, 0.5, 0.0]]))[:, 0]
        # tensor([[1., 0., 0.], [0., 0., 0.], [0., 1., 0.], [0., 0., 0.], [0., 0., 0.]])
    """

    def __init__(self, time_steps: int | None = None, mode: str = "linear", threshold: float = 0.01) -> None:
        super().__init__(time_steps)
        if mode not in ("linear", "log"):
            raise ValueError(f"LatencyEncoder: mode must be 'linear' or 'log', got {mode!r}")
        if not _is_number(threshold) or not 0.0 <= threshold < 1.0:
            raise ValueError(f"LatencyEncoder: threshold must be a number with 0 <= threshold < 1, got {threshold!r}")
        if mode == "log" and threshold == 0:
            raise ValueError("LatencyEncoder: mode='log' needs threshold > 0 (ln(x / (x - threshold)) is 0 for every x at threshold 0)")
        self.mode = mode
        self.threshold = float(threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        if self.time_steps is None:
            steps, sequence, x = x.shape[0], x, x[0]
            if steps > 1 and not torch.equal(x.unsqueeze(0).expand_as(sequence), sequence):
                raise ValueError(
                    "LatencyEncoder: latency coding needs a static input, but the steps of this sequence [T, B, ...] differ; "
                    "pass one frame [B, ...] with time_steps, or the same frame repeated over T"
                )
        else:
            steps = self.time_steps
        x = x.detach()
        self._check_unit_range(x, "intensities x", NORMALISED_HINT)
        times = self.spike_times(x, steps)
        fires = x > self.threshold
        step = torch.arange(steps, device=x.device).view(steps, *([1] * x.dim()))
        return ((step == times) & fires).to(x.dtype)

    def spike_times(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """The integer step [B, ...] at which each element would fire (meaningful where x > threshold)."""
        # float32 at least: threshold + eps is lost in half precision.
        x = x.to(torch.promote_types(x.dtype, torch.float32))
        if self.mode == "linear":
            return torch.round((1 - x) * (steps - 1)).long()
        x = x.clamp(min=self.threshold + LOG_EPSILON)
        reference = torch.full((), self.threshold + LOG_EPSILON, dtype=x.dtype, device=x.device)
        latest = torch.log(reference / (reference - self.threshold))
        return torch.round(torch.log(x / (x - self.threshold)) * (steps - 1) / latest).long()

    def extra_repr(self) -> str:
        return f"time_steps={self.time_steps}, mode={self.mode!r}, threshold={self.threshold}"


_CLASSES: dict[str, type[nn.Module]] = {"direct": DirectEncoder, "poisson": PoissonEncoder, "latency": LatencyEncoder}


def build_encoder(kind: str, **options: object) -> nn.Module:
    """The encoder ``kind`` (one of ENCODERS) built with ``options``, so configs can name it."""
    if kind not in _CLASSES:
        raise ValueError(f"unknown encoder {kind!r}; known: {', '.join(ENCODERS)}")
    cls = _CLASSES[kind]
    valid = [name for name in inspect.signature(cls).parameters]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"encoder {kind!r} has no option {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}")
    return cls(**options)

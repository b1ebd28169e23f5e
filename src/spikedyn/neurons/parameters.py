"""Shapes and initial values of the learnable neuron parameters: tau (through a) and IMP."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

TAU_SHAPES = ("layer", "channel", "neuron")
TAU_INITS = ("constant", "lognormal")
IMP_SHAPES = (None, "channel", "neuron")


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """Raise a ValueError naming the option, the value that came and the allowed ones."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not supported; expected one of {list(allowed)!r}")


def feature_shape(shape: int | Sequence[int] | None, needed_for: str | None = None) -> tuple[int, ...] | None:
    """Normalise ``shape`` (an int or a sequence of positive ints) to a tuple; None stays None."""
    if shape is None:
        if needed_for is not None:
            raise ValueError(f"{needed_for} needs the feature shape: pass shape=(C, H, W) or shape=(features,)")
        return None
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(f"shape must be a positive int or a non-empty sequence of positive ints, got {shape!r}")
    return dims


def param_shape(kind: str, shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """The tensor shape of a per-layer (``()``), per-channel (``(C,)``) or per-neuron parameter."""
    if kind == "layer":
        return ()
    if shape is None:
        raise ValueError(f"a per-{kind} parameter needs the feature shape: pass shape=(C, H, W) or shape=(features,)")
    return shape[:1] if kind == "channel" else shape


def check_tau(tau: float) -> float:
    """Reject tau <= 1 (k = 1/tau must lie in (0, 1)) and non-finite tau."""
    if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not math.isfinite(tau) or tau <= 1.0:
        raise ValueError(f"tau must be a finite number > 1 (k = 1/tau in (0, 1)), got {tau!r}")
    return float(tau)


def tau_to_logit(tau: float | torch.Tensor) -> float | torch.Tensor:
    """a such that sigmoid(a) = 1/tau: a = -log(tau - 1)."""
    if isinstance(tau, torch.Tensor):
        return -torch.log(tau - 1.0)
    return -math.log(tau - 1.0)


def init_tau_logit(
    tau: float,
    kind: str,
    shape: tuple[int, ...] | None,
    init: str = "constant",
    std: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Initial a for a PLIF layer.

    ``lognormal``: tau - 1 is log-normal with mean tau - 1 and standard deviation ``std``
    (moments matched in tau-space), so every sampled tau is > 1 and a = -log(tau - 1) is
    simply normal; sampling a directly never overflows.
    """
    check_tau(tau)
    check_choice("tau_shape", kind, TAU_SHAPES)
    check_choice("tau_init", init, TAU_INITS)
    pshape = param_shape(kind, shape)
    if init == "constant":
        return torch.full(pshape, tau_to_logit(tau), dtype=torch.float32)
    if not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
        raise ValueError(f"tau_init='lognormal' needs tau_std > 0 (a standard deviation in tau-space), got {std!r}")
    mean = tau - 1.0
    sigma2 = math.log1p((std / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    normal = torch.randn(pshape, generator=generator, dtype=torch.float64)
    return (-(mu + math.sqrt(sigma2) * normal)).to(torch.float32)


def init_imp(
    kind: str | None,
    shape: tuple[int, ...] | None,
    init_range: tuple[float, float] = (-0.2, 0.2),
    generator: torch.Generator | None = None,
) -> torch.Tensor | None:
    """Initial V_{-1}: uniform in ``init_range`` per neuron or per channel, or None."""
    check_choice("imp", kind, IMP_SHAPES)
    if kind is None:
        return None
    low, high = (float(v) for v in init_range)
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"imp_init_range must be (low, high) with finite low <= high, got {init_range!r}")
    pshape = param_shape(kind, feature_shape(shape, needed_for=f"imp={kind!r}"))
    return torch.empty(pshape).uniform_(low, high, generator=generator)


def broadcastable(param: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """View a per-layer/channel/neuron parameter so it broadcasts against [..., *shape]."""
    if param.dim() == 0 or tuple(param.shape) == shape:
        return param
    if param.dim() == 1 and param.shape[0] == shape[0]:
        return param.view(shape[0], *([1] * (len(shape) - 1)))
    raise ValueError(f"parameter of shape {tuple(param.shape)} does not fit features of shape {shape}")


def per_neuron(param: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A contiguous [N] vector with one value per neuron, N = prod(shape)."""
    return broadcastable(param, shape).expand(shape).reshape(-1).contiguous()


def reduce_to(grad: torch.Tensor, param_shape_: torch.Size, shape: tuple[int, ...]) -> torch.Tensor:
    """Sum a per-neuron gradient [*shape] down to the parameter's own shape."""
    if param_shape_ == torch.Size(shape):
        return grad
    if len(param_shape_) == 0:
        return grad.sum()
    return grad.reshape(shape[0], -1).sum(1)


#: How a threshold is given: a fixed number (today's neurons, bit for bit), or learned per layer, channel or neuron.
THRESHOLD_SHAPES = ("fixed", "layer", "channel", "neuron")


def softplus_inverse(value: float) -> float:
    """w such that softplus(w) = log(1 + e^w) = ``value`` > 0: how a positive learned quantity is stored."""
    return value + math.log(-math.expm1(-value))


def check_positive(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number > 0, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def init_positive(name: str, value: float, kind: str, shape: tuple[int, ...] | None, allowed: Sequence[str] = TAU_SHAPES) -> torch.Tensor:
    """The stored parameter w of a positive quantity (softplus(w) = ``value``), per layer, channel or neuron."""
    check_choice(f"{name} shape", kind, allowed)
    return torch.full(param_shape(kind, shape), softplus_inverse(check_positive(name, value)), dtype=torch.float32)

"""Surrogate gradients: Heaviside forward, a smooth derivative backward.

Each surrogate is a small frozen description (its name, its ``alpha``) with two torch
functions: ``primitive`` (the smooth function whose derivative stands in for the step's) and
``derivative``. ``KERNEL_ID`` lets compiled backends evaluate the same derivative natively;
a user-defined surrogate without one still works on every backend through the torch path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

__all__ = ["Surrogate", "ATan", "Sigmoid", "Triangle", "Rectangular", "spike", "from_kernel_id"]


class _SpikeFunction(torch.autograd.Function):
    """Heaviside(x) = (x >= 0) forward, ``surrogate.derivative(x)`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: "Surrogate") -> torch.Tensor:  # type: ignore[override]
        ctx.surrogate = surrogate
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None


def spike(x: torch.Tensor, surrogate: "Surrogate") -> torch.Tensor:
    """Fire where x >= 0; gradients flow through the surrogate's derivative."""
    return _SpikeFunction.apply(x, surrogate)


@dataclass(frozen=True)
class Surrogate:
    """Base class: subclasses define ``derivative`` and ``primitive`` for a given ``alpha``."""

    alpha: float = 1.0
    KERNEL_ID: ClassVar[int | None] = None

    def __post_init__(self) -> None:
        if not (isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"{type(self).__name__}: alpha must be a finite number > 0, got {self.alpha!r}")

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """d primitive / dx, used as the derivative of the Heaviside step."""
        raise NotImplementedError

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        """The smooth stand-in for Heaviside(x) (for plots and checks)."""
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return spike(x, self)


@dataclass(frozen=True)
class ATan(Surrogate):
    """g(x) = arctan(pi/2 alpha x) / pi + 1/2; alpha=2 gives the PLIF paper's 1 / (1 + (pi x)^2)."""

    alpha: float = 2.0
    KERNEL_ID: ClassVar[int] = 0

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return (self.alpha / 2) / (1 + (math.pi / 2 * self.alpha * x).square())

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.atan(math.pi / 2 * self.alpha * x) / math.pi + 0.5


@dataclass(frozen=True)
class Sigmoid(Surrogate):
    """g(x) = sigmoid(alpha x), g'(x) = alpha g (1 - g)."""

    alpha: float = 4.0
    KERNEL_ID: ClassVar[int] = 1

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        sg = torch.sigmoid(self.alpha * x)
        return self.alpha * sg * (1 - sg)

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.alpha * x)


@dataclass(frozen=True)
class Triangle(Surrogate):
    """g'(x) = alpha max(0, 1 - alpha |x|): the IMP code's (1/gamma)^2 (gamma - |x|) with gamma = 1/alpha."""

    alpha: float = 1.0
    KERNEL_ID: ClassVar[int] = 2

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return self.alpha * (1 - self.alpha * x.abs()).clamp_min(0)

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        z = (self.alpha * x).clamp(-1, 1)
        return 0.5 + z - 0.5 * z * z.abs()


@dataclass(frozen=True)
class Rectangular(Surrogate):
    """g'(x) = alpha where |x| < 1 / (2 alpha), else 0: a box of unit area."""

    alpha: float = 1.0
    KERNEL_ID: ClassVar[int] = 3

    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        return (x.abs() < 0.5 / self.alpha).to(x.dtype) * self.alpha

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        return (self.alpha * x + 0.5).clamp(0, 1)


KERNEL_SURROGATES: dict[int, type[Surrogate]] = {cls.KERNEL_ID: cls for cls in (ATan, Sigmoid, Triangle, Rectangular)}


def from_kernel_id(kernel_id: int, alpha: float) -> Surrogate:
    """The built-in surrogate with this ``KERNEL_ID`` and ``alpha`` (how compiled operators name one)."""
    if kernel_id not in KERNEL_SURROGATES:
        raise ValueError(f"no built-in surrogate has KERNEL_ID {kernel_id!r}; expected one of {sorted(KERNEL_SURROGATES)}")
    return KERNEL_SURROGATES[kernel_id](alpha=alpha)

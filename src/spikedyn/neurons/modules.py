"""IF, LIF and PLIF: the neurons, each a thin choice of leak on top of :class:`BaseNeuron`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from spikedyn.neurons.base import BaseNeuron
from spikedyn.neurons.parameters import TAU_SHAPES, check_choice, check_tau, feature_shape, init_tau_logit


class IF(BaseNeuron):
    """Integrate-and-fire: H_t = V_{t-1} + X_t, no leak."""

    def __init__(self, *, shape: int | Sequence[int] | None = None, **options) -> None:
        if "decay_input" in options:
            raise TypeError("IF has no leak, so decay_input does not apply; use LIF or PLIF")
        super().__init__(shape=shape, leaky=False, **options)

    @property
    def tau(self) -> torch.Tensor:
        """An IF neuron never leaks: tau is infinite (a 0-d tensor)."""
        return torch.tensor(math.inf)


class LIF(BaseNeuron):
    """Leaky integrate-and-fire with a fixed membrane time constant ``tau`` (k = 1/tau)."""

    def __init__(self, tau: float = 2.0, *, shape: int | Sequence[int] | None = None, **options) -> None:
        super().__init__(shape=shape, **options)
        # float64 so that float64 models see 1/tau exactly; backends cast k to the input dtype.
        self.register_buffer("k", torch.tensor(1.0 / check_tau(tau), dtype=torch.float64))

    def decay_parameter(self) -> tuple[torch.Tensor, bool]:
        return self.k, False

    @property
    def tau(self) -> torch.Tensor:
        """The membrane time constant (a 0-d tensor)."""
        return 1.0 / self.k

    def extra_repr(self) -> str:
        return f"tau={float(self.tau):.4g}, " + super().extra_repr()


class PLIF(BaseNeuron):
    """Parametric LIF: k = sigmoid(a) learned, so tau = 1 + exp(-a) stays in (1, inf).

    ``tau_shape``: one a per layer (the PLIF paper), per channel (the first feature dim) or
    per neuron. ``tau_init="lognormal"`` draws tau - 1 log-normal with mean ``tau`` - 1 and
    standard deviation ``tau_std`` (the per-neuron study).
    """

    def __init__(
        self,
        tau: float = 2.0,
        *,
        shape: int | Sequence[int] | None = None,
        tau_shape: str = "layer",
        tau_init: str = "constant",
        tau_std: float = 0.0,
        **options,
    ) -> None:
        check_choice("tau_shape", tau_shape, TAU_SHAPES)
        if tau_shape != "layer":
            feature_shape(shape, needed_for=f"tau_shape={tau_shape!r}")
        super().__init__(shape=shape, **options)
        self.tau_shape = tau_shape
        self.tau_logit = nn.Parameter(init_tau_logit(tau, tau_shape, self.shape, tau_init, tau_std))

    def decay_parameter(self) -> tuple[torch.Tensor, bool]:
        return self.tau_logit, True

    @property
    def tau(self) -> torch.Tensor:
        """Current tau = 1/sigmoid(a), shaped like the parameter, detached."""
        return (1.0 + torch.exp(-self.tau_logit)).detach()

    def extra_repr(self) -> str:
        return f"tau_shape={self.tau_shape!r}, " + super().extra_repr()

"""IF, LIF and PLIF: the neurons, each a thin choice of leak on top of :class:`BaseNeuron`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from spikedyn.neurons.base import BaseNeuron
from spikedyn.neurons.parameters import TAU_SHAPES, check_choice, check_tau, feature_shape, init_tau_logit
from spikedyn.surrogate import Surrogate


class IF(BaseNeuron):
    """Integrate-and-fire: H_t = V_{t-1} + X_t, no leak.

    Options as :class:`BaseNeuron`'s: ``v_threshold``, ``v_reset`` (None: soft reset),
    ``detach_reset``, ``surrogate`` (default ATan()), ``imp`` ("neuron" | "channel" | None) with
    ``imp_init_range``, ``backend``, ``threshold`` ("fixed" | "layer" | "channel" | "neuron": a
    learned threshold starting at ``v_threshold``), and ``shape`` (the features of one sample at one step).

    Example::

        >>> spikes = IF(v_threshold=0.5)(torch.rand(8, 2, 100))  # [T, B, features]
    """

    def __init__(
        self,
        *,
        shape: int | Sequence[int] | None = None,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        surrogate: Surrogate | None = None,
        imp: str | None = None,
        imp_init_range: tuple[float, float] = (-0.2, 0.2),
        backend: str | None = None,
        threshold: str = "fixed",
    ) -> None:
        super().__init__(shape=shape, v_threshold=v_threshold, v_reset=v_reset, detach_reset=detach_reset, leaky=False,
                         surrogate=surrogate, imp=imp, imp_init_range=imp_init_range, backend=backend, threshold=threshold)  # fmt: skip

    @property
    def tau(self) -> torch.Tensor:
        """An IF neuron never leaks: tau is infinite (a 0-d tensor)."""
        return torch.tensor(math.inf)


class LIF(BaseNeuron):
    """Leaky integrate-and-fire with a fixed membrane time constant ``tau`` (k = 1/tau).

    ``decay_input=True`` charges H_t = V_{t-1} + k (X_t - (V_{t-1} - V_reset)) (PLIF Eq. 6),
    ``False`` H_t = V_{t-1} - k (V_{t-1} - V_reset) + X_t. The other options are :class:`IF`'s.

    Example::

        >>> spikes = LIF(tau=2.0, decay_input=False)(torch.rand(8, 2, 100))
    """

    def __init__(
        self,
        tau: float = 2.0,
        *,
        shape: int | Sequence[int] | None = None,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        surrogate: Surrogate | None = None,
        imp: str | None = None,
        imp_init_range: tuple[float, float] = (-0.2, 0.2),
        backend: str | None = None,
        threshold: str = "fixed",
    ) -> None:
        super().__init__(shape=shape, v_threshold=v_threshold, v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input,
                         surrogate=surrogate, imp=imp, imp_init_range=imp_init_range, backend=backend, threshold=threshold)  # fmt: skip
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

    ``tau`` is the initial tau_0. ``tau_shape``: one a per layer (the PLIF paper), per channel
    (the first feature dim) or per neuron (these need ``shape``). ``tau_init="lognormal"``
    draws tau - 1 log-normal with mean ``tau`` - 1 and standard deviation ``tau_std`` (the
    per-neuron study). The other options are :class:`LIF`'s.

    Example::

        >>> plif = PLIF(tau=2.0, tau_shape="neuron", shape=(100,), imp="neuron")
        >>> spikes = plif(torch.rand(8, 2, 100))
        >>> plif.tau.shape
        torch.Size([100])
    """

    def __init__(
        self,
        tau: float = 2.0,
        *,
        shape: int | Sequence[int] | None = None,
        tau_shape: str = "layer",
        tau_init: str = "constant",
        tau_std: float = 0.0,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        surrogate: Surrogate | None = None,
        imp: str | None = None,
        imp_init_range: tuple[float, float] = (-0.2, 0.2),
        backend: str | None = None,
        threshold: str = "fixed",
    ) -> None:
        check_choice("tau_shape", tau_shape, TAU_SHAPES)
        if tau_shape != "layer":
            feature_shape(shape, needed_for=f"tau_shape={tau_shape!r}")
        super().__init__(shape=shape, v_threshold=v_threshold, v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input,
                         surrogate=surrogate, imp=imp, imp_init_range=imp_init_range, backend=backend, threshold=threshold)  # fmt: skip
        self.tau_shape = tau_shape
        self.tau_logit = nn.Parameter(init_tau_logit(tau, tau_shape, self.shape, tau_init, tau_std))

    def decay_parameter(self) -> tuple[torch.Tensor, bool]:
        return self.tau_logit, True

    def learned_names(self) -> tuple[str, ...]:
        return ("tau", *super().learned_names())

    @property
    def tau(self) -> torch.Tensor:
        """Current tau = 1/sigmoid(a), shaped like the parameter, detached."""
        return (1.0 + torch.exp(-self.tau_logit)).detach()

    def extra_repr(self) -> str:
        return f"tau_shape={self.tau_shape!r}, " + super().extra_repr()

"""ALIF (an adaptive threshold) and CubaLIF (a synaptic current): PLIF-like neurons with one more learned dynamic.

Both take PLIF's options (a learned membrane tau per layer, channel or neuron; IMP; a learned
threshold) plus their own time constant, learned per layer, channel or neuron with PLIF's
parametrisation (1/tau = sigmoid(w), so tau stays in (1, inf)). The equations are in
:mod:`spikedyn.neurons.dynamics` (:func:`~spikedyn.neurons.dynamics.extended_step`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from spikedyn.neurons.dynamics import Quantities
from spikedyn.neurons.modules import PLIF
from spikedyn.neurons.parameters import TAU_SHAPES, check_choice, feature_shape, init_positive, init_tau_logit
from spikedyn.surrogate import Surrogate


def _decay(logit: torch.Tensor) -> torch.Tensor:
    """1 - 1/tau for a time constant stored as its logit (1/tau = sigmoid(w))."""
    return 1.0 - torch.sigmoid(logit)


def _granularity(name: str, kind: str, shape: tuple[int, ...] | None) -> str:
    check_choice(name, kind, TAU_SHAPES)
    if kind != "layer":
        feature_shape(shape, needed_for=f"{name}={kind!r}")
    return kind


class ALIF(PLIF):
    """Adaptive LIF (Bellec et al. 2018's LSNN): the threshold A_t = theta + beta a_{t-1} rises with each spike.

    a_t = (1 - 1/tau_a) a_{t-1} + S_t, a_{-1} = 0; a soft reset (``v_reset=None``) subtracts A_t.
    ``adaptation_tau`` (tau_a > 1) and ``adaptation_strength`` (beta > 0, kept positive as
    softplus) are learned per ``adaptation_shape`` ("layer", "channel" or "neuron");
    ``detach_adaptation`` cuts the gradient through a_{t-1}. The other options are PLIF's.

    Example::

        >>> alif = ALIF(tau=2.0, adaptation_tau=8.0, adaptation_strength=0.3, shape=(100,), adaptation_shape="neuron")
        >>> spikes = alif(torch.rand(16, 4, 100))
        >>> sorted(alif.effective())
        ['adaptation_strength', 'adaptation_tau', 'tau', 'threshold']
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
        adaptation_tau: float = 4.0,
        adaptation_strength: float = 0.5,
        adaptation_shape: str = "layer",
        detach_adaptation: bool = False,
    ) -> None:
        super().__init__(tau, shape=shape, tau_shape=tau_shape, tau_init=tau_init, tau_std=tau_std, v_threshold=v_threshold,
                         v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input, surrogate=surrogate, imp=imp,
                         imp_init_range=imp_init_range, backend=backend, threshold=threshold)  # fmt: skip
        if not isinstance(detach_adaptation, bool):
            raise TypeError(f"detach_adaptation must be True or False, got {detach_adaptation!r}")
        self.dynamics = dataclasses.replace(self.dynamics, detach_adaptation=detach_adaptation)
        self.adaptation_shape = _granularity("adaptation_shape", adaptation_shape, self.shape)
        self.adaptation_logit = nn.Parameter(init_tau_logit(adaptation_tau, adaptation_shape, self.shape))
        self.adaptation_strength_param = nn.Parameter(init_positive("adaptation_strength", adaptation_strength, adaptation_shape, self.shape))

    @property
    def extended(self) -> bool:
        return True

    def quantities(self) -> Quantities:
        base = super().quantities()
        strength = nn.functional.softplus(self.adaptation_strength_param)
        return base._replace(adaptation_decay=_decay(self.adaptation_logit), adaptation_strength=strength)

    def learned_names(self) -> tuple[str, ...]:
        return (*super().learned_names(), "adaptation_tau", "adaptation_strength")

    def effective(self) -> dict[str, torch.Tensor]:
        return {**super().effective(), "adaptation_tau": 1.0 + torch.exp(-self.adaptation_logit),
                "adaptation_strength": nn.functional.softplus(self.adaptation_strength_param)}  # fmt: skip

    @property
    def adaptation_tau(self) -> torch.Tensor:
        """Current tau_a, shaped like its parameter, detached (for records)."""
        return (1.0 + torch.exp(-self.adaptation_logit)).detach()

    def extra_repr(self) -> str:
        return f"adaptation_shape={self.adaptation_shape!r}, detach_adaptation={self.dynamics.detach_adaptation}, " + super().extra_repr()


class CubaLIF(PLIF):
    """Current-based LIF (NIR's CubaLIF, Norse's LIF): the membrane charges from a synaptic current I_t, not from X_t.

    I_t = (1 - 1/tau_s) I_{t-1} + X_t with I_{-1} = 0; then H_t as PLIF's from I_t.
    ``synaptic_tau`` (tau_s > 1) is learned per ``synaptic_shape`` ("layer", "channel" or
    "neuron"). The other options are PLIF's.

    Example::

        >>> cuba = CubaLIF(tau=4.0, synaptic_tau=2.0)
        >>> spikes = cuba(torch.rand(16, 4, 100))
        >>> float(cuba.effective()["synaptic_tau"])
        2.0
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
        synaptic_tau: float = 2.0,
        synaptic_shape: str = "layer",
    ) -> None:
        super().__init__(tau, shape=shape, tau_shape=tau_shape, tau_init=tau_init, tau_std=tau_std, v_threshold=v_threshold,
                         v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input, surrogate=surrogate, imp=imp,
                         imp_init_range=imp_init_range, backend=backend, threshold=threshold)  # fmt: skip
        self.synaptic_shape = _granularity("synaptic_shape", synaptic_shape, self.shape)
        self.synaptic_logit = nn.Parameter(init_tau_logit(synaptic_tau, synaptic_shape, self.shape))

    @property
    def extended(self) -> bool:
        return True

    def quantities(self) -> Quantities:
        return super().quantities()._replace(synaptic_decay=_decay(self.synaptic_logit))

    def learned_names(self) -> tuple[str, ...]:
        return (*super().learned_names(), "synaptic_tau")

    def effective(self) -> dict[str, torch.Tensor]:
        return {**super().effective(), "synaptic_tau": 1.0 + torch.exp(-self.synaptic_logit)}

    @property
    def synaptic_tau(self) -> torch.Tensor:
        """Current tau_s, shaped like its parameter, detached (for records)."""
        return (1.0 + torch.exp(-self.synaptic_logit)).detach()

    def extra_repr(self) -> str:
        return f"synaptic_shape={self.synaptic_shape!r}, " + super().extra_repr()

"""The neuron dynamics, written once as pure functions: charge, fire, reset, one step.

Every backend is checked against :func:`neuron_step` run in a loop (the ``reference``
backend), forward and gradients. See ARCHITECTURE.md for the equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spikedyn.surrogate import ATan, Surrogate


@dataclass(frozen=True)
class Dynamics:
    """What a neuron does each step, apart from its (possibly learned) k = 1/tau and V_{-1}.

    ``leaky=False`` is the IF neuron (H = V + X). ``v_reset=None`` means soft reset
    (subtract the threshold); the leak then decays towards 0.
    """

    v_threshold: float = 1.0
    v_reset: float | None = 0.0
    detach_reset: bool = True
    decay_input: bool = True
    leaky: bool = True
    surrogate: Surrogate = ATan()

    @property
    def hard_reset(self) -> bool:
        """True when a spike sets V to v_reset, False when it subtracts the threshold."""
        return self.v_reset is not None

    @property
    def rest(self) -> float:
        """The potential the leak decays towards and V_{-1} without IMP."""
        return 0.0 if self.v_reset is None else float(self.v_reset)


def charge(v: torch.Tensor, x: torch.Tensor, k: torch.Tensor | float, dyn: Dynamics) -> torch.Tensor:
    """H_t from V_{t-1} and X_t (PLIF Eq. 6, its decay_input=False form, or IF)."""
    if not dyn.leaky:
        return v + x
    if dyn.decay_input:
        return v + k * (x - (v - dyn.rest))
    return v - k * (v - dyn.rest) + x


def reset(h: torch.Tensor, s: torch.Tensor, dyn: Dynamics) -> torch.Tensor:
    """V_t from H_t and S_t: hard reset to v_reset or soft reset by subtraction."""
    if dyn.detach_reset:
        s = s.detach()
    if dyn.hard_reset:
        return h * (1.0 - s) + dyn.rest * s
    return h - dyn.v_threshold * s


def neuron_step(
    x: torch.Tensor, v: torch.Tensor, k: torch.Tensor | float, dyn: Dynamics
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One time step: returns (spike S_t, charged potential H_t, next potential V_t)."""
    h = charge(v, x, k, dyn)
    s = dyn.surrogate(h - dyn.v_threshold)
    return s, h, reset(h, s, dyn)

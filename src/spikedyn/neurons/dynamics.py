"""The neuron dynamics, written once as pure functions: charge, fire, reset, one step.

Every backend is checked against :func:`neuron_step` (and :func:`extended_step`) run in a loop
(the ``reference`` backend), forward and gradients. See ARCHITECTURE.md for the equations.

:func:`extended_step` adds, in the same discrete time, what ALIF, CubaLIF and a learnable
threshold need (with X_t the input, H_t the charged potential):

- a synaptic current (CubaLIF, NIR's and Norse's): I_t = (1 - 1/tau_s) I_{t-1} + X_t with
  I_{-1} = 0, and the membrane charges from I_t as LIF/PLIF charge from X_t;
- an adaptive threshold (ALIF, Bellec et al. 2018's LSNN): A_t = theta + beta a_{t-1},
  S_t = Heaviside(H_t - A_t), a_t = (1 - 1/tau_a) a_{t-1} + S_t with a_{-1} = 0; a soft reset
  subtracts A_t; ``detach_adaptation`` cuts the gradient through a_{t-1};
- a threshold theta given per neuron (learnable): its gradient flows through the surrogate
  and, with a soft reset, through the subtraction, unless ``detach_reset`` (which detaches the
  whole reset amount, A_t S_t).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

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
    detach_adaptation: bool = False  # ALIF: no gradient through a_{t-1} into earlier steps

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


class State(NamedTuple):
    """What a neuron carries from one step to the next: V, and I (CubaLIF) and a (ALIF) where it has them."""

    v: torch.Tensor
    current: torch.Tensor | None = None
    adaptation: torch.Tensor | None = None


class Quantities(NamedTuple):
    """A neuron's per-neuron quantities, broadcastable against [B, *shape]; None where it has no such dynamic."""

    k: torch.Tensor | float | None  # 1/tau of the membrane; None: IF
    threshold: torch.Tensor | float  # theta
    synaptic_decay: torch.Tensor | None = None  # 1 - 1/tau_s (CubaLIF)
    adaptation_decay: torch.Tensor | None = None  # 1 - 1/tau_a (ALIF)
    adaptation_strength: torch.Tensor | None = None  # beta (ALIF)


def synaptic_current(current: torch.Tensor, x: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """I_t = (1 - 1/tau_s) I_{t-1} + X_t."""
    return decay * current + x


def adaptive_threshold(threshold: torch.Tensor | float, strength: torch.Tensor, adaptation: torch.Tensor, dyn: Dynamics) -> torch.Tensor:
    """A_t = theta + beta a_{t-1} (a_{t-1} detached with ``detach_adaptation``)."""
    return threshold + strength * (adaptation.detach() if dyn.detach_adaptation else adaptation)


def reset_from(h: torch.Tensor, s: torch.Tensor, threshold: torch.Tensor | float, dyn: Dynamics) -> torch.Tensor:
    """V_t with a threshold A_t that may be learned or adapt: hard reset to v_reset, or soft reset by subtracting A_t S_t."""
    if dyn.hard_reset:
        s = s.detach() if dyn.detach_reset else s
        return h * (1.0 - s) + dyn.rest * s
    amount = threshold * s
    return h - (amount.detach() if dyn.detach_reset else amount)


def extended_step(x: torch.Tensor, state: State, q: Quantities, dyn: Dynamics) -> tuple[torch.Tensor, torch.Tensor, State]:
    """One step of a neuron with a synaptic current, an adaptive or learned threshold: (S_t, H_t, next state)."""
    current = x if state.current is None else synaptic_current(state.current, x, q.synaptic_decay)
    h = charge(state.v, current, 0.0 if q.k is None else q.k, dyn)
    threshold = q.threshold if state.adaptation is None else adaptive_threshold(q.threshold, q.adaptation_strength, state.adaptation, dyn)
    s = dyn.surrogate(h - threshold)
    adaptation = None if state.adaptation is None else q.adaptation_decay * state.adaptation + s
    return s, h, State(reset_from(h, s, threshold, dyn), None if state.current is None else current, adaptation)

"""The multi-step neuron module shared by IF, LIF, PLIF, ALIF and CubaLIF: options, IMP, threshold, input checks, dispatch."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from spikedyn.neurons.backends import check_backend, run_backend, run_extended_backend
from spikedyn.neurons.backends.reference import decay_factor, initial_potential
from spikedyn.neurons.dynamics import Dynamics, Quantities, State, extended_step, neuron_step
from spikedyn.neurons.parameters import THRESHOLD_SHAPES, broadcastable, check_choice, feature_shape, init_imp, init_positive
from spikedyn.surrogate import ATan, Surrogate


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


class BaseNeuron(nn.Module):
    """A stateless multi-step spiking neuron: [T, B, *shape] in, spikes [T, B, *shape] out.

    Nothing is kept between calls, so there is nothing to reset between batches; use
    :meth:`step` for streaming. ``imp`` ("neuron" or "channel") adds a learnable initial
    membrane potential V_{-1}, drawn from U(``imp_init_range``). ``threshold`` ("layer",
    "channel" or "neuron"; default "fixed") learns the threshold, starting at ``v_threshold``
    and kept positive as softplus(w).
    """

    def __init__(
        self,
        *,
        shape: int | Sequence[int] | None = None,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        leaky: bool = True,
        surrogate: Surrogate | None = None,
        imp: str | None = None,
        imp_init_range: tuple[float, float] = (-0.2, 0.2),
        backend: str | None = None,
        threshold: str = "fixed",
        detach_adaptation: bool = False,
    ) -> None:
        super().__init__()
        surrogate = ATan() if surrogate is None else surrogate
        if not isinstance(surrogate, Surrogate):
            raise TypeError(f"surrogate must be a spikedyn.surrogate.Surrogate, got {type(surrogate).__name__}")
        v_threshold = _check_number("v_threshold", v_threshold)
        if v_reset is not None and _check_number("v_reset", v_reset) >= v_threshold:
            raise ValueError(f"v_reset ({v_reset}) must be below v_threshold ({v_threshold})")
        for flag, value in (("detach_reset", detach_reset), ("decay_input", decay_input), ("detach_adaptation", detach_adaptation)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be True or False, got {value!r}")
        self.shape = feature_shape(shape)
        self.dynamics = Dynamics(
            v_threshold=v_threshold,
            v_reset=None if v_reset is None else float(v_reset),
            detach_reset=detach_reset,
            decay_input=decay_input,
            leaky=leaky,
            surrogate=surrogate,
            detach_adaptation=detach_adaptation,
        )
        self.backend = None if backend is None else check_backend(backend)
        initial = init_imp(imp, self.shape, imp_init_range)
        self.imp_shape = imp
        self.imp = None if initial is None else nn.Parameter(initial)
        check_choice("threshold", threshold, THRESHOLD_SHAPES)
        if threshold not in ("fixed", "layer"):
            feature_shape(self.shape, needed_for=f"threshold={threshold!r}")
        self.threshold_shape = threshold
        learned = None if threshold == "fixed" else init_positive("v_threshold (learned)", v_threshold, threshold, self.shape)
        self.threshold_param = None if learned is None else nn.Parameter(learned)

    @property
    def extended(self) -> bool:
        """Whether the neuron needs the extended dynamics (a learned threshold, adaptation or a synaptic current)."""
        return self.threshold_param is not None

    def threshold_value(self) -> torch.Tensor | float:
        """theta: softplus(w) for a learned threshold (differentiable), else the fixed ``v_threshold``."""
        if self.threshold_param is None:
            return self.dynamics.v_threshold
        return nn.functional.softplus(self.threshold_param)

    def quantities(self) -> Quantities:
        """The per-neuron quantities the extended dynamics run with, computed from the parameters (differentiable)."""
        k_param, k_is_logit = self.decay_parameter()
        return Quantities(decay_factor(k_param, k_is_logit), self.threshold_value())

    def learned(self) -> dict[str, torch.Tensor]:
        """The quantities this neuron learns, detached, by name (a subset of :meth:`effective`'s keys): for records."""
        effective = self.effective()
        return {name: effective[name].detach() for name in self.learned_names()}

    def learned_names(self) -> tuple[str, ...]:
        """The names of :meth:`effective` that this neuron learns (not fixed numbers)."""
        return ("threshold",) if self.threshold_param is not None else ()

    def effective(self) -> dict[str, torch.Tensor]:
        """The learned quantities as differentiable tensors from their parameters: ``tau`` and ``threshold`` (and, where a
        neuron has them, ``adaptation_tau``, ``adaptation_strength``, ``synaptic_tau``), each in its parameter's shape.

        A fixed quantity is a 0-d tensor; IF's tau is infinite. Use them to write the equations
        yourself; the detached ``tau`` property stays for records.
        """
        k_param, k_is_logit = self.decay_parameter()
        k = decay_factor(k_param, k_is_logit)
        tau = torch.tensor(math.inf) if k is None else 1.0 / k
        threshold = self.threshold_value()
        return {"tau": tau, "threshold": threshold if isinstance(threshold, torch.Tensor) else torch.tensor(threshold)}

    def decay_parameter(self) -> tuple[torch.Tensor | None, bool]:
        """(k or its logit a, whether it is a logit); (None, False) for a neuron without leak."""
        return None, False

    def _check_input(self, x: torch.Tensor, batch_dims: int) -> None:
        layout = "[T, B, *shape]" if batch_dims == 2 else "[B, *shape]"
        expected = f"{layout} with shape={self.shape}" if self.shape is not None else layout
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__} expects a tensor {expected}, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{type(self).__name__} expects a floating-point tensor, got dtype {x.dtype}")
        if x.dim() < batch_dims or (self.shape is not None and tuple(x.shape[batch_dims:]) != self.shape):
            raise ValueError(f"{type(self).__name__} expects input {expected}, got a tensor of shape {tuple(x.shape)}")
        if self.shape is None and self.imp is not None:
            broadcastable(self.imp, tuple(x.shape[batch_dims:]))

    def forward(self, x: torch.Tensor, return_v: bool = False):
        """Spikes [T, B, *shape]; with ``return_v=True`` also the charged potentials H."""
        self._check_input(x, batch_dims=2)
        if self.extended:
            spikes, potentials = run_extended_backend(self.backend, x, self.dynamics, self.quantities(), self.imp, return_v=return_v)
            return (spikes, potentials) if return_v else spikes
        k_param, k_is_logit = self.decay_parameter()
        spikes, potentials = run_backend(self.backend, x, self.dynamics, k_param, k_is_logit, self.imp, return_v=return_v)
        return (spikes, potentials) if return_v else spikes

    def initial_state(self, x_t: torch.Tensor) -> torch.Tensor:
        """V_{-1} for a batch like ``x_t`` [B, *shape]: the IMP or the resting potential."""
        return initial_potential(self.imp, self.dynamics, x_t)

    def step(self, x_t: torch.Tensor, state=None):
        """One step for streaming use: (x_t [B, *shape], V_{t-1} or None) -> (spike, V_t).

        A neuron with extended dynamics (learned threshold, ALIF, CubaLIF) carries a
        :class:`~spikedyn.neurons.dynamics.State` (V, I, a) instead of V: (x_t, State or None) -> (spike, State).
        """
        self._check_input(x_t, batch_dims=1)
        if self.extended:
            q = Quantities(*(value if value is None or isinstance(value, float) else broadcastable(value, tuple(x_t.shape[1:])) for value in self.quantities()))
            current = torch.zeros_like(x_t) if q.synaptic_decay is not None else None
            adaptation = torch.zeros_like(x_t) if q.adaptation_strength is not None else None
            start = State(self.initial_state(x_t), current, adaptation) if state is None else state
            s, _, next_state = extended_step(x_t, start, q, self.dynamics)
            return s, next_state
        v = self.initial_state(x_t) if state is None else state
        k_param, k_is_logit = self.decay_parameter()
        k = decay_factor(k_param, k_is_logit)
        kb = 0.0 if k is None else broadcastable(k, tuple(x_t.shape[1:]))
        s, _, v_next = neuron_step(x_t, v, kb, self.dynamics)
        return s, v_next

    def extra_repr(self) -> str:
        dyn = self.dynamics
        parts = [f"shape={self.shape}", f"v_threshold={dyn.v_threshold}", f"v_reset={dyn.v_reset}"]
        parts += [f"detach_reset={dyn.detach_reset}", f"surrogate={dyn.surrogate}"]
        if dyn.leaky:
            parts.append(f"decay_input={dyn.decay_input}")
        if self.imp_shape is not None:
            parts.append(f"imp={self.imp_shape!r}")
        if self.threshold_shape != "fixed":
            parts.append(f"threshold={self.threshold_shape!r}")
        if self.backend is not None:
            parts.append(f"backend={self.backend!r}")
        return ", ".join(parts)

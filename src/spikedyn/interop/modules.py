"""The multi-step modules an imported NIR graph runs as: IF, LIF and CubaLIF with fixed per-neuron parameters, an input gain, the graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from spikedyn.layers.temporal import check_sequence
from spikedyn.neurons import IF, LIF, BaseNeuron
from spikedyn.neurons.dynamics import Quantities
from spikedyn.surrogate import Surrogate


def _feature_shape(*values: torch.Tensor | float) -> tuple[int, ...] | None:
    """The feature shape of the first per-neuron tensor among ``values`` (None when all are one per layer)."""
    shapes = [tuple(v.shape) for v in values if isinstance(v, torch.Tensor) and v.dim() > 0]
    return shapes[0] if shapes else None


def _least(v_threshold: torch.Tensor | float) -> float:
    """The number BaseNeuron checks V_reset against: the threshold, or the least of a per-neuron one."""
    return float(v_threshold.min()) if isinstance(v_threshold, torch.Tensor) else float(v_threshold)


class _GivenThreshold:
    """A fixed threshold given per neuron (an imported NIR v_threshold that differs across a node's neurons).

    It is held as a buffer, the exact values imported, and the neuron runs the extended
    dynamics, which compare H with it element by element (``Dynamics.v_threshold`` holds the least).
    """

    threshold_tensor: torch.Tensor | None

    def _hold_threshold(self, v_threshold: torch.Tensor | float) -> None:
        given = v_threshold.detach().clone() if isinstance(v_threshold, torch.Tensor) else None
        self.register_buffer("threshold_tensor", given)

    @property
    def extended(self) -> bool:
        return self.threshold_tensor is not None or super().extended

    def threshold_value(self) -> torch.Tensor | float:
        return super().threshold_value() if self.threshold_tensor is None else self.threshold_tensor

    def _threshold_repr(self) -> str:
        return "" if self.threshold_tensor is None else f"threshold per neuron {tuple(self.threshold_tensor.shape)}, "


class FixedIF(_GivenThreshold, IF):
    """An IF neuron whose threshold may be given per neuron (a tensor): an imported NIR IF."""

    def __init__(self, *, v_threshold: torch.Tensor | float = 1.0, v_reset: float | None = 0.0, detach_reset: bool = True,
                 surrogate: Surrogate | None = None, backend: str | None = None) -> None:  # fmt: skip
        super().__init__(shape=_feature_shape(v_threshold), v_threshold=_least(v_threshold), v_reset=v_reset,
                         detach_reset=detach_reset, surrogate=surrogate, backend=backend)  # fmt: skip
        self._hold_threshold(v_threshold)

    def extra_repr(self) -> str:
        return self._threshold_repr() + super().extra_repr()


class FixedLIF(_GivenThreshold, LIF):
    """A LIF whose fixed k = dt / tau is given per neuron (or as one 0-d value), as may be its threshold: an imported NIR LIF.

    spikedyn's LIF takes one tau per layer and PLIF learns its tau through a logit (whose
    sigmoid would not give back k to the last bit), so an imported per-neuron tau runs here.
    """

    def __init__(
        self,
        k: torch.Tensor,
        *,
        v_threshold: torch.Tensor | float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        surrogate: Surrogate | None = None,
        backend: str | None = None,
    ) -> None:
        if not torch.all((k > 0) & (k <= 1)):
            raise ValueError(f"k = dt/tau must lie in (0, 1], got values from {float(k.min()):.6g} to {float(k.max()):.6g}")
        super().__init__(shape=_feature_shape(k, v_threshold), v_threshold=_least(v_threshold), v_reset=v_reset,
                         detach_reset=detach_reset, decay_input=decay_input, surrogate=surrogate, backend=backend)  # fmt: skip
        # replaces LIF's buffer; float64 as there: backends cast it to the input's type, rounding dt/tau once
        self.k = k.detach().to(torch.float64)
        self._hold_threshold(v_threshold)

    def extra_repr(self) -> str:
        return f"k={tuple(self.k.shape) or 'one per layer'}, " + self._threshold_repr() + BaseNeuron.extra_repr(self)


class FixedCubaLIF(FixedLIF):
    """A current-based LIF with fixed per-neuron k and synaptic decay 1 - 1/tau_s: an imported NIR CubaLIF.

    I_t = decay I_{t-1} + X_t, then H_t as a LIF's from I_t (:class:`spikedyn.neurons.CubaLIF`'s
    dynamics). The decay is held in float64 and rounded once to the input's type.
    """

    def __init__(
        self,
        k: torch.Tensor,
        synaptic_decay: torch.Tensor,
        *,
        v_threshold: torch.Tensor | float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        surrogate: Surrogate | None = None,
        backend: str | None = None,
    ) -> None:
        if not torch.all((synaptic_decay >= 0) & (synaptic_decay < 1)):
            raise ValueError(f"the synaptic decay 1 - dt/tau_syn must lie in [0, 1), got values from "
                             f"{float(synaptic_decay.min()):.6g} to {float(synaptic_decay.max()):.6g}")  # fmt: skip
        shape = _feature_shape(k, v_threshold, synaptic_decay)
        if shape is not None and k.dim() == 0:
            k = k.expand(shape).clone()  # FixedLIF takes the neuron's shape from k (or the threshold)
        super().__init__(k, v_threshold=v_threshold, v_reset=v_reset, detach_reset=detach_reset, decay_input=decay_input,
                         surrogate=surrogate, backend=backend)  # fmt: skip
        self.register_buffer("synaptic_decay", synaptic_decay.detach().to(torch.float64))

    @property
    def extended(self) -> bool:
        return True

    def quantities(self) -> Quantities:
        return super().quantities()._replace(synaptic_decay=self.synaptic_decay)

    def effective(self) -> dict[str, torch.Tensor]:
        return {**super().effective(), "synaptic_tau": 1.0 / (1.0 - self.synaptic_decay)}

    def extra_repr(self) -> str:
        return f"synaptic_decay={tuple(self.synaptic_decay.shape) or 'one per layer'}, " + super().extra_repr()


class InputGain(nn.Module):
    """Multiply each feature by a fixed gain over [T, B, *shape]: NIR's Scale, and an r spikedyn lacks."""

    def __init__(self, gain: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("gain", gain.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x, type(self).__name__)
        return x * self.gain.to(x.dtype)

    def extra_repr(self) -> str:
        return f"shape={tuple(self.gain.shape)}"


class GraphNetwork(nn.Module):
    """Runs the nodes of an acyclic graph over whole sequences [T, B, ...], each after its inputs.

    A node with several inputs gets their sum, as in NIR. ``order`` is a topological order
    from ``input`` to ``output``; ``inputs`` maps each node to the nodes feeding it.
    """

    def __init__(self, layers: Mapping[str, nn.Module], order: Sequence[str], inputs: Mapping[str, Sequence[str]], input: str, output: str) -> None:
        super().__init__()
        self.layers = nn.ModuleDict(dict(layers))
        self.order = list(order)
        self.inputs = {name: list(sources) for name, sources in inputs.items()}
        self.input, self.output = input, output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The output node's sequence for an input sequence [T, B, *input_shape]."""
        check_sequence(x, type(self).__name__)
        values = {self.input: x}
        for name in self.order:
            if name == self.input:
                continue
            sources = [values[source] for source in self.inputs[name]]
            incoming = sources[0] if len(sources) == 1 else torch.stack(sources).sum(0)
            values[name] = self.layers[name](incoming) if name in self.layers else incoming
        return values[self.output]

"""The multi-step modules an imported NIR graph runs as: a fixed-tau LIF, an input gain, the graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from spikedyn.layers.temporal import check_sequence
from spikedyn.neurons import LIF, BaseNeuron
from spikedyn.surrogate import Surrogate


class FixedLIF(LIF):
    """A LIF whose fixed k = dt / tau is given per neuron (or as one 0-d value): an imported NIR LIF.

    spikedyn's LIF takes one tau per layer and PLIF learns its tau through a logit (whose
    sigmoid would not give back k to the last bit), so an imported per-neuron tau runs here.
    """

    def __init__(
        self,
        k: torch.Tensor,
        *,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        detach_reset: bool = True,
        decay_input: bool = True,
        surrogate: Surrogate | None = None,
        backend: str | None = None,
    ) -> None:
        if not torch.all((k > 0) & (k <= 1)):
            raise ValueError(f"k = dt/tau must lie in (0, 1], got values from {float(k.min()):.6g} to {float(k.max()):.6g}")
        super().__init__(shape=None if k.dim() == 0 else tuple(k.shape), v_threshold=v_threshold, v_reset=v_reset,
                         detach_reset=detach_reset, decay_input=decay_input, surrogate=surrogate, backend=backend)  # fmt: skip
        # replaces LIF's buffer; float64 as there: backends cast it to the input's type, rounding dt/tau once
        self.k = k.detach().to(torch.float64)

    def extra_repr(self) -> str:
        return f"k={tuple(self.k.shape) or 'one per layer'}, " + BaseNeuron.extra_repr(self)


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

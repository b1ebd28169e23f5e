"""SpikingJelly 2.0's IFNode, LIFNode and ParametricLIFNode as spikedyn's IF, LIF and PLIF.

The dynamics are the same equations (H >= V_th fires; hard or soft reset; V_{-1} = v_reset,
or 0 for a soft reset); what differs is the defaults, so every option is passed explicitly:
SpikingJelly's Sigmoid surrogate and detach_reset=False stay so in the converted network.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from spikedyn.interop.spikingjelly_layers import Refused, check_multi_step, check_no_memory, spikingjelly_modules
from spikedyn.neurons import IF, LIF, PLIF, BaseNeuron
from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Surrogate, Triangle

#: SpikingJelly surrogate name -> the spikedyn surrogate with the same derivative for the same alpha.
SURROGATES: dict[str, type[Surrogate]] = {"Sigmoid": Sigmoid, "ATan": ATan, "PiecewiseQuadratic": Triangle, "Rect": Rectangular}
NEURONS = {"IFNode": IF, "LIFNode": LIF, "ParametricLIFNode": PLIF}


def convert_surrogate(function: nn.Module) -> Surrogate:
    """The spikedyn surrogate of a SpikingJelly surrogate module, refused unless it is one of :data:`SURROGATES`."""
    surrogate = spikingjelly_modules().surrogate
    name = type(function).__name__
    if name not in SURROGATES or type(function) is not getattr(surrogate, name):
        known = ", ".join(f"surrogate.{sj} ({ours.__name__})" for sj, ours in SURROGATES.items())
        raise Refused(f"its surrogate {type(function).__module__}.{type(function).__qualname__} has no spikedyn equivalent; converted: {known}")
    if not function.spiking:
        raise Refused(f"its surrogate.{name} has spiking=False, so it emits the smooth primitive instead of spikes")
    alpha = function.alpha
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha <= 0:
        raise Refused(f"its surrogate.{name} has alpha={alpha!r}; spikedyn's {SURROGATES[name].__name__} takes a finite number > 0")
    return SURROGATES[name](alpha=float(alpha))


def _check_initial_potential(node: nn.Module) -> None:
    check_no_memory(node)
    rest = 0.0 if node.v_reset is None else node.v_reset
    start, reset_to = node._memories["v"], node._memories_rv["v"]
    if start != rest or reset_to != rest:
        raise Refused(f"it starts from v = {start} (and restarts from {reset_to} after reset_net); spikedyn's neurons "
                      f"start from v_reset, or 0 for a soft reset: {rest}")  # fmt: skip


def is_neuron(module: nn.Module) -> bool:
    """Whether ``module`` is exactly a SpikingJelly IFNode, LIFNode or ParametricLIFNode."""
    neuron = spikingjelly_modules().neuron
    name = type(module).__name__
    return name in NEURONS and type(module) is getattr(neuron, name)


def convert_neuron(node: nn.Module, device: torch.device) -> BaseNeuron:
    """spikedyn's IF, LIF or PLIF with ``node``'s options: LIF's k goes to ``device``, PLIF's w is copied as it is."""
    check_multi_step(node)
    if node._neuron_precision is not None:
        raise Refused(f"it keeps its state in reduced precision ({node._neuron_precision}), which spikedyn's neurons do not")
    _check_initial_potential(node)
    cls = NEURONS[type(node).__name__]
    options = dict(v_threshold=node.v_threshold, v_reset=node.v_reset, detach_reset=node.detach_reset,
                   surrogate=convert_surrogate(node.surrogate_function))  # fmt: skip
    if cls is not IF:
        options["decay_input"] = node.decay_input
    if cls is PLIF and node.w.numel() != 1:
        raise Refused(f"its w has shape {tuple(node.w.shape)}; ParametricLIFNode learns one w per layer")
    try:
        converted = LIF(node.tau, **options) if cls is LIF else cls(**options)
    except (TypeError, ValueError) as error:
        raise Refused(f"spikedyn's {cls.__name__} does not take these options: {error}") from error
    if cls is PLIF:
        w = node.w.detach().clone().reshape(())  # a = w: both take k = sigmoid(a)
        converted.tau_logit = nn.Parameter(w, requires_grad=node.w.requires_grad)
    else:
        converted.to(device)  # LIF's k buffer (float64, as LIF keeps it)
    return converted.train(node.training)

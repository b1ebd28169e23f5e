"""spikedyn's discrete neurons <-> NIR's continuous-time IF and LIF, for a time step dt: written once.

spikedyn, one step (ARCHITECTURE.md), then a spike where H >= V_th and V = V_reset after it:

    H = V + k (X - (V - V_reset))     decay_input=True
    H = V - k (V - V_reset) + X       decay_input=False
    H = V + X                         IF

NIR's LIF is tau dv/dt = (v_leak - v) + r I, a spike where v > v_threshold, then v = v_reset.
One explicit Euler step of length dt is v += (dt / tau) (v_leak - v + r I), which is spikedyn's
step exactly when

    tau = dt / k,   v_leak = v_reset = V_reset,
    r = 1             for decay_input=True  (the input is scaled by k = dt / tau as well)
    r = tau / dt      for decay_input=False (= 1 / k: the input enters whole)

NIR's IF is dv/dt = r I. Every NIR library we read (Norse, snnTorch, sinabs) runs it as
v += r I per step whatever dt, and exports its own v += I neuron with r = 1; spikedyn does
the same: an IF's r is its per-step input gain (the strict Euler reading would be r = 1/dt).

Thresholds: NIR fires on v > v_threshold, spikedyn on H >= V_th. The exported v_threshold
is the largest number of the model's float type below V_th, so a simulator computing in
that type fires on exactly the same potentials; the import adds that step back. All
parameters are written per neuron (arrays of the layer's shape), in float64, so a per-layer
or per-channel tau is broadcast and a per-neuron tau keeps its heterogeneity.

What the mapping cannot carry (soft reset, a learned initial potential) is decided by the
exporter (:mod:`spikedyn.interop.approximations`), never here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import nir
import numpy as np

#: How close r must be to 1 (or to tau/dt) to be read as decay_input=True (False): a relative
#: gap far below float32's resolution, so peers' float rounding is not mistaken for a gain.
_SAME = 1e-9


@dataclass(frozen=True)
class DiscreteNeuron:
    """A neuron layer's inference dynamics in spikedyn's terms: per-neuron k = 1/tau (None: IF), V_th, V_reset.

    ``input_gain`` (per neuron, None for 1) is only ever read from NIR: an IF's r other than 1,
    or a LIF's r that neither decay_input convention explains; spikedyn multiplies the input by it.
    """

    k: np.ndarray | None
    v_threshold: float
    v_reset: float
    decay_input: bool = True
    input_gain: np.ndarray | None = None


def check_dt(dt: float) -> float:
    """Return ``dt`` as a float, or raise a ValueError unless it is a finite number > 0."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt (the time one spikedyn step stands for) must be a finite number > 0, got {dt!r}")
    return float(dt)


def strict_threshold(v_threshold: float, dtype: np.dtype) -> float:
    """The NIR v_threshold for spikedyn's V_th: v > it exactly where v >= V_th, for v of ``dtype``.

    spikedyn's backends compare in the input's type, with V_th rounded to it first.
    """
    value = np.asarray(v_threshold, dtype=dtype)
    return float(np.nextafter(value, np.asarray(-np.inf, dtype=dtype)))


def inclusive_threshold(v_threshold: float, dtype: np.dtype) -> float:
    """spikedyn's V_th for a NIR v_threshold: the least number of ``dtype`` above it, so H >= V_th exactly where H > v_threshold."""
    value = np.asarray(v_threshold, dtype=dtype)
    if float(value) > v_threshold:
        return float(value)
    return float(np.nextafter(value, np.asarray(np.inf, dtype=dtype)))


def to_nir_neuron(neuron: DiscreteNeuron, shape: tuple[int, ...], dt: float, dtype: np.dtype) -> nir.NIRNode:
    """The nir.LIF (or nir.IF when ``neuron.k`` is None) with per-neuron arrays of ``shape`` for one step of ``dt``."""
    dt = check_dt(dt)
    threshold = np.full(shape, strict_threshold(neuron.v_threshold, dtype))
    reset = np.full(shape, float(neuron.v_reset))
    if neuron.k is None:
        return nir.IF(r=np.ones(shape), v_threshold=threshold, v_reset=reset)
    k = np.broadcast_to(np.asarray(neuron.k, dtype=np.float64), shape)
    tau = dt / k
    r = np.ones(shape) if neuron.decay_input else tau / dt
    return nir.LIF(tau=tau, r=r, v_leak=reset.copy(), v_threshold=threshold, v_reset=reset)


def _uniform(node_name: str, field: str, values: np.ndarray, why: str) -> float:
    """The one value of ``values``, or a ValueError naming the node, the field and why one is needed."""
    unique = np.unique(values)
    if unique.size != 1:
        raise ValueError(f"NIR node {node_name!r}: {field} takes {unique.size} different values "
                         f"({unique.min():.6g} to {unique.max():.6g}), but {why}")  # fmt: skip
    return float(unique[0])


def from_nir_neuron(node: nir.NIRNode, node_name: str, dt: float, dtype: np.dtype) -> DiscreteNeuron:
    """spikedyn's dynamics for a nir.IF or nir.LIF run in steps of ``dt``; a ValueError names what does not fit."""
    dt = check_dt(dt)
    one_per_layer = "a spikedyn neuron layer has one value for all its neurons"
    threshold = _uniform(node_name, "v_threshold", np.asarray(node.v_threshold, dtype=np.float64), one_per_layer)
    reset = _uniform(node_name, "v_reset", np.asarray(node.v_reset, dtype=np.float64), one_per_layer)
    r = np.asarray(node.r, dtype=np.float64)
    v_threshold = inclusive_threshold(threshold, dtype)
    if isinstance(node, nir.IF):
        gain = None if np.all(r == 1.0) else r
        return DiscreteNeuron(k=None, v_threshold=v_threshold, v_reset=reset, input_gain=gain)
    tau = np.asarray(node.tau, dtype=np.float64)
    if not np.all(np.isfinite(tau)) or np.any(tau < dt):
        raise ValueError(f"NIR node {node_name!r}: tau must be finite and at least dt={dt:g} (k = dt/tau in (0, 1]), "
                         f"got values from {tau.min():.6g} to {tau.max():.6g}; is dt the one the graph was exported with?")  # fmt: skip
    v_leak = np.asarray(node.v_leak, dtype=np.float64)
    if not np.all(v_leak == reset):
        raise ValueError(f"NIR node {node_name!r}: v_leak ({v_leak.min():.6g} to {v_leak.max():.6g}) differs from "
                         f"v_reset ({reset:.6g}), but a spikedyn neuron leaks towards its reset potential")  # fmt: skip
    k = dt / tau
    if np.allclose(r, 1.0, rtol=0.0, atol=_SAME):
        return DiscreteNeuron(k=k, v_threshold=v_threshold, v_reset=reset)
    if np.allclose(r * k, 1.0, rtol=0.0, atol=_SAME):
        return DiscreteNeuron(k=k, v_threshold=v_threshold, v_reset=reset, decay_input=False)
    return DiscreteNeuron(k=k, v_threshold=v_threshold, v_reset=reset, input_gain=np.broadcast_to(r, tau.shape).copy())

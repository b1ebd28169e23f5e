"""spikedyn's discrete neurons <-> NIR's continuous-time IF, LIF and CubaLIF, for a time step dt: written once.

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

CubaLIF. spikedyn's synaptic current is I_t = (1 - 1/tau_s) I_{t-1} + X_t (I_{-1} = 0), and the
membrane charges from I_t as above from X_t. NIR's CubaLIF is tau_syn dI/dt = -I + w_in S and
tau_mem dv/dt = (v_leak - v) + r I. One Euler step of dt for the current, then one for the
membrane driven by the current just computed (the order of Norse's NIR importer, of Norse's
own current-based LIF, of snnTorch's Synaptic and SpikingJelly's CUBALIFNode), is

    I += (dt / tau_syn) (w_in S - I),   then   v += (dt / tau_mem) (v_leak - v + r I),

spikedyn's step exactly (the same I, the same v) when

    tau_syn = dt tau_s            (1/tau_s = dt / tau_syn, the synaptic decay 1 - dt / tau_syn)
    w_in = tau_syn / dt = tau_s   (the input enters the current whole, as snnTorch and
                                   SpikingJelly export it; w_in = 1 would scale it by dt/tau_syn)
    tau_mem, r, v_leak, v_reset   as tau, r, v_leak, v_reset of the LIF above.

(An explicit step that updated both from the old state would drive v with I_{t-1}: every
input would reach the membrane one step later, a pure delay.) On import, any w_in and r are
taken: with g = (dt / tau_syn) w_in r, decay_input=True when g = 1, decay_input=False when
g k = 1, else an input gain g in front of a decay_input=True neuron (spikedyn's current is
linear in its input, so a gain before the synapse is a gain after it). The synaptic decay is
carried as 1 - dt / tau_syn in float64 and rounded once to the model's type, so a float32
decay comes back to the last bit.

NIR's IF is dv/dt = r I. Every NIR library we read (Norse, snnTorch, sinabs) runs it as
v += r I per step whatever dt, and exports its own v += I neuron with r = 1; spikedyn does
the same: an IF's r is its per-step input gain (the strict Euler reading would be r = 1/dt).

Thresholds: NIR fires on v > v_threshold, spikedyn on H >= V_th. The exported v_threshold
is, element by element, the largest number of the model's float type below V_th, so a
simulator computing in that type fires on exactly the same potentials; the import adds that
step back. A threshold learned per layer, channel or neuron is written per neuron like any
other, and one that differs across the neurons of a node comes back as one per neuron. All
parameters are written per neuron (arrays of the layer's shape), in float64, so a per-layer
or per-channel tau is broadcast and a per-neuron tau keeps its heterogeneity.

What the mapping cannot carry (soft reset, a learned initial potential, an adaptive
threshold) is decided by the exporter (:mod:`spikedyn.interop.approximations`), never here.
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

    ``v_threshold`` is one number, or an array with one per neuron. ``synaptic_decay`` (per
    neuron, 1 - 1/tau_s) gives the neuron a synaptic current (CubaLIF); None: none.
    ``input_gain`` (per neuron, None for 1) is only ever read from NIR: an IF's r other than 1,
    or a LIF's r (a CubaLIF's r and w_in) that neither decay_input convention explains;
    spikedyn multiplies the input by it.
    """

    k: np.ndarray | None
    v_threshold: float | np.ndarray
    v_reset: float
    decay_input: bool = True
    input_gain: np.ndarray | None = None
    synaptic_decay: np.ndarray | None = None


def check_dt(dt: float) -> float:
    """Return ``dt`` as a float, or raise a ValueError unless it is a finite number > 0."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt (the time one spikedyn step stands for) must be a finite number > 0, got {dt!r}")
    return float(dt)


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    return float(values) if values.ndim == 0 else values


def strict_threshold(v_threshold: float | np.ndarray, dtype: np.dtype) -> float | np.ndarray:
    """The NIR v_threshold for spikedyn's V_th (element by element): v > it exactly where v >= V_th, for v of ``dtype``.

    spikedyn's backends compare in the input's type, with V_th rounded to it first.
    """
    value = np.asarray(v_threshold, dtype=dtype)
    return _scalar_or_array(np.nextafter(value, np.asarray(-np.inf, dtype=dtype)).astype(np.float64))


def inclusive_threshold(v_threshold: float | np.ndarray, dtype: np.dtype) -> float | np.ndarray:
    """spikedyn's V_th for a NIR v_threshold (element by element): the least number of ``dtype`` above it,
    so H >= V_th exactly where H > v_threshold."""
    given = np.asarray(v_threshold, dtype=np.float64)
    value = given.astype(dtype)
    above = np.where(value.astype(np.float64) > given, value, np.nextafter(value, np.asarray(np.inf, dtype=dtype)))
    return _scalar_or_array(above.astype(np.float64))


def to_nir_neuron(neuron: DiscreteNeuron, shape: tuple[int, ...], dt: float, dtype: np.dtype) -> nir.NIRNode:
    """The nir.LIF, nir.CubaLIF (with a synaptic decay) or nir.IF (``neuron.k`` None), with per-neuron arrays of ``shape``
    for one step of ``dt``."""
    dt = check_dt(dt)
    threshold = np.broadcast_to(strict_threshold(neuron.v_threshold, dtype), shape).copy()
    reset = np.full(shape, float(neuron.v_reset))
    if neuron.k is None:
        return nir.IF(r=np.ones(shape), v_threshold=threshold, v_reset=reset)
    k = np.broadcast_to(np.asarray(neuron.k, dtype=np.float64), shape)
    tau = dt / k
    r = np.ones(shape) if neuron.decay_input else tau / dt
    if neuron.synaptic_decay is None:
        return nir.LIF(tau=tau, r=r, v_leak=reset.copy(), v_threshold=threshold, v_reset=reset)
    tau_syn = dt / (1.0 - np.broadcast_to(np.asarray(neuron.synaptic_decay, dtype=np.float64), shape))
    return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau, r=r, v_leak=reset.copy(), v_threshold=threshold, v_reset=reset, w_in=tau_syn / dt)


def _uniform(node_name: str, field: str, values: np.ndarray, why: str) -> float:
    """The one value of ``values``, or a ValueError naming the node, the field and why one is needed."""
    unique = np.unique(values)
    if unique.size != 1:
        raise ValueError(f"NIR node {node_name!r}: {field} takes {unique.size} different values "
                         f"({unique.min():.6g} to {unique.max():.6g}), but {why}")  # fmt: skip
    return float(unique[0])


def _time_constant(node_name: str, field: str, values: object, dt: float) -> np.ndarray:
    """dt / tau per neuron, or a ValueError unless every tau is finite and at least dt (k in (0, 1])."""
    tau = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(tau)) or np.any(tau < dt):
        raise ValueError(f"NIR node {node_name!r}: {field} must be finite and at least dt={dt:g} (dt/{field} in (0, 1]), "
                         f"got values from {tau.min():.6g} to {tau.max():.6g}; is dt the one the graph was exported with?")  # fmt: skip
    return dt / tau


def _threshold(node: nir.NIRNode, dtype: np.dtype) -> float | np.ndarray:
    """spikedyn's V_th for the node's v_threshold: one number when all its neurons share it, else one per neuron."""
    values = np.asarray(node.v_threshold, dtype=np.float64)
    unique = np.unique(values)
    return inclusive_threshold(float(unique[0]) if unique.size == 1 else values, dtype)


def from_nir_neuron(node: nir.NIRNode, node_name: str, dt: float, dtype: np.dtype) -> DiscreteNeuron:
    """spikedyn's dynamics for a nir.IF, nir.LIF or nir.CubaLIF run in steps of ``dt``; a ValueError names what does not fit."""
    dt = check_dt(dt)
    reset = _uniform(node_name, "v_reset", np.asarray(node.v_reset, dtype=np.float64), "a spikedyn neuron layer has one reset potential")
    r = np.asarray(node.r, dtype=np.float64)
    v_threshold = _threshold(node, dtype)
    if isinstance(node, nir.IF):
        gain = None if np.all(r == 1.0) else r
        return DiscreteNeuron(k=None, v_threshold=v_threshold, v_reset=reset, input_gain=gain)
    cuba = isinstance(node, nir.CubaLIF)
    k = _time_constant(node_name, "tau_mem" if cuba else "tau", node.tau_mem if cuba else node.tau, dt)
    v_leak = np.asarray(node.v_leak, dtype=np.float64)
    if not np.all(v_leak == reset):
        raise ValueError(f"NIR node {node_name!r}: v_leak ({v_leak.min():.6g} to {v_leak.max():.6g}) differs from "
                         f"v_reset ({reset:.6g}), but a spikedyn neuron leaks towards its reset potential")  # fmt: skip
    decay, gain = None, r
    if cuba:
        synaptic_k = _time_constant(node_name, "tau_syn", node.tau_syn, dt)
        decay, gain = np.broadcast_to(1.0 - synaptic_k, k.shape).copy(), synaptic_k * np.asarray(node.w_in, dtype=np.float64) * r
    options = dict(k=k, v_threshold=v_threshold, v_reset=reset, synaptic_decay=decay)
    if np.allclose(gain, 1.0, rtol=0.0, atol=_SAME):
        return DiscreteNeuron(**options)
    if np.allclose(gain * k, 1.0, rtol=0.0, atol=_SAME):
        return DiscreteNeuron(**options, decay_input=False)
    return DiscreteNeuron(**options, input_gain=np.broadcast_to(gain, k.shape).copy())

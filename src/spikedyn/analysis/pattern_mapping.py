"""Input-to-output spike pattern mappings of an IF neuron over 4 steps (IMP paper Fig. 3), and sweeps that find all of them.

The neuron is spikedyn's IF: V_th = 1, soft reset (V_t = H_t - S_t, the paper's s[t+1] =
h[t] - o[t]), H_t = V_{t-1} + w x_t with x a binary input pattern, V_{-1} = IMP, firing at
H_t >= V_th (as SpikingJelly's IFNode in the authors' code; see below for >). A mapping
is a pair (input pattern, output pattern) that some (IMP, w) of a sweep produces.

The sweeps (:data:`SETTINGS`):

- "paper", the ranges of the authors' figure code (IMP-SNN, ``etc/pattern mapping/``,
  ``plot_mapping.py`` lines 43-46 and ``plot_mapping_imp.py`` lines 39-41): w in [0, V_th];
  IMP 0 and 0.25; the learnable panel IMP in [-1, 1], V_th included (their
  ``linspace(-1, 1, 9)`` ends at 1, and their Learnable-IMP.svg maps input 0000 to output
  1000, which only IMP >= V_th does). They sample w every 1/16 (every 1/8, IMP every 1/4,
  in the learnable panel); spikedyn's grids are exact over the whole ranges, which adds one
  mapping at IMP 0.25 that a 1/16 step misses (1111 -> 1110, w in [11/12, 15/16)).
  ``weight_steps=17, imp_steps=9`` gives what their grids give (54 / 71 / 108).
- "wide", spikedyn's first sweep: w in [-6, 6], negative and supra-threshold weights too.

Why the default grids give the exact answer over every real (IMP, w) of the ranges:
H_t = IMP + w c_t - n_t, where c_t in 0..4 counts the input spikes up to t and n_t in 0..3
the output spikes before t, so the output changes only across the lines IMP + c w = 1 + n.
H_t never falls as IMP or w grows, so, firing at H >= V_th, a point does what (IMP + e,
w + e) does for small e > 0. That point lies in an open cell of the lines unless the first
lies on the box's top edge w = w_hi or right edge IMP = IMP_hi: the reachable set is the
union over the open cells, the open pieces of these two edges and their corner, and a grid
that meets each is exact. (Firing at H > V_th, as the paper's Eq. 2 writes, the bottom and
left edges would take their place: the paper setting would drop to 39 / 72 / 80 mappings,
since w = V_th and IMP = V_th no longer fire at H = V_th. The authors' IFNode fires at >=.)

- A fixed IMP = k/q (a panel, or the right edge): the cuts w = (1 + n - IMP) / c are
  multiples of 1/(qc), so two distinct cuts, or a cut and an integer end of the weight
  range, are at least 1/(12q) apart; a weight grid with both ends and a step below 1/(12q)
  meets every interval (IMP 0: 1/12, IMP 0.25: 1/48, IMP 1: 1/12).
- Over IMP: the order of the cuts and the weight range's (integer) ends changes only
  where two lines meet, at IMP = (c(1+n') - c'(1+n)) / (c - c'), c != c' in 0..4: a
  multiple of 1/6 (an integer if c or c' is 0), or where a line meets an end, at an
  integer IMP. Between consecutive such values the cells and the top edge's pieces keep
  their outputs; the IMP grid (step 1/24, ends included) has points inside every such
  interval, and at IMP = m/24 the cuts are multiples of 1/288, so a weight step below
  1/288 meets every cell.

Both settings' defaults qualify (weight steps 1/576 and 1/2000, IMP step 1/24). A grid
point on a line may land on either side of it in float64; both sides are met by other
points, except at the top-right corner, whose coordinates are integers, exact. The tests
check the defaults against an exact rational enumeration: paper 54 / 72 / 108 mappings
(80 with IMP < V_th), wide 71 / 90 / 129 (103 with IMP < V_th).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spikedyn.neurons import IF

V_TH = 1.0
#: 4 steps, so 2**4 = 16 binary spike patterns in and out.
PATTERN_STEPS = 4
PATTERNS = 2**PATTERN_STEPS
#: Largest (IMP chunk x weights) block simulated at once by :func:`pattern_mappings`.
_BLOCK = 2**18


@dataclass(frozen=True)
class MappingSetting:
    """A sweep: weights ``linspace(*weight_range, weight_steps)``, the middle panel's IMP ``imp``, the learnable panel's IMPs ``linspace(*imp_range, imp_steps)``."""

    weight_range: tuple[float, float]
    weight_steps: int
    imp_range: tuple[float, float]
    imp_steps: int
    imp: float = 0.25

    def __post_init__(self) -> None:
        for name in ("weight_range", "imp_range"):
            low, high = getattr(self, name)
            if not (np.isfinite(low) and np.isfinite(high) and low <= high):
                raise ValueError(f"{name} must be two finite numbers (low, high) with low <= high, got {(low, high)!r}")
        if self.weight_steps < 1 or self.imp_steps < 1 or not np.isfinite(self.imp):
            raise ValueError(f"weight_steps and imp_steps must be positive and imp finite, got {self.weight_steps}, {self.imp_steps}, {self.imp}")

    def weights(self) -> np.ndarray:
        """The weight grid (float64, both ends exact)."""
        return np.linspace(*self.weight_range, self.weight_steps)

    def imps(self) -> np.ndarray:
        """The learnable panel's IMP grid (float64, both ends exact)."""
        return np.linspace(*self.imp_range, self.imp_steps)


SETTINGS: dict[str, MappingSetting] = {
    "paper": MappingSetting(weight_range=(0.0, V_TH), weight_steps=577, imp_range=(-1.0, V_TH), imp_steps=49),
    "wide": MappingSetting(weight_range=(-6.0, 6.0), weight_steps=24001, imp_range=(-1.0, V_TH), imp_steps=49),
}


def mapping_setting(setting: str = "paper", **overrides: object) -> MappingSetting:
    """The sweep named ``setting`` with the fields given in ``overrides`` replaced (None keeps a field)."""
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {', '.join(SETTINGS)}, got {setting!r}")
    return dataclasses.replace(SETTINGS[setting], **{name: value for name, value in overrides.items() if value is not None})


def spike_patterns() -> torch.Tensor:
    """All binary patterns over :data:`PATTERN_STEPS` steps as [T, 16] float64; pattern p spikes at t when bit T-1-t of p is set."""
    return torch.tensor([[(p >> (PATTERN_STEPS - 1 - t)) & 1 for p in range(PATTERNS)] for t in range(PATTERN_STEPS)], dtype=torch.float64)


def pattern_label(index: int) -> str:
    """Pattern ``index`` as its spikes in time order, e.g. 8 -> '1000' (a spike at t = 0 only)."""
    return format(index, f"0{PATTERN_STEPS}b")


def pattern_mappings(imp_values: Sequence[float] | np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """reach[i, o] (bool, 16 x 16): input pattern i makes the IF neuron emit output pattern o for some IMP and weight of the grids.

    Every pair (IMP in ``imp_values``, w in ``weights``) is simulated over 4 steps in
    float64 by spikedyn's IF module (one IMP per row of weights) and the reachable (input,
    output) pairs are collected.
    """
    imps = torch.as_tensor(np.asarray(imp_values, dtype=np.float64).ravel())
    w = torch.as_tensor(np.asarray(weights, dtype=np.float64).ravel())
    if imps.numel() == 0 or w.numel() == 0 or not (torch.isfinite(imps).all() and torch.isfinite(w).all()):
        raise ValueError("pattern_mappings needs at least one finite IMP value and one finite weight")
    patterns = spike_patterns()
    place = 2.0 ** torch.arange(PATTERN_STEPS - 1, -1, -1, dtype=torch.float64)  # t = 0 is the leading bit
    reach = torch.zeros(PATTERNS, PATTERNS, dtype=torch.bool)
    for chunk in imps.split(max(1, _BLOCK // w.numel())):
        neuron = IF(shape=(chunk.numel(), w.numel()), v_threshold=V_TH, v_reset=None, imp="channel").double()
        with torch.no_grad():
            neuron.imp.copy_(chunk)
            x = (patterns[:, :, None, None] * w).expand(PATTERN_STEPS, PATTERNS, chunk.numel(), w.numel())
            spikes = neuron(x)  # [T, 16 inputs, IMPs, weights]
        codes = torch.tensordot(place, spikes, dims=1).long().reshape(PATTERNS, -1)
        reach.scatter_(1, codes, True)
    return reach.numpy()


def panel_mappings(sweep: MappingSetting) -> list[tuple[str, np.ndarray]]:
    """Fig. 3's three panels as (title, reach) over the sweep's weights: IMP 0, IMP ``sweep.imp``, and the learnable IMP grid."""
    learnable = "learnable IMP in [{:g}, {:g}]".format(*sweep.imp_range)
    panels = (("IMP = 0", [0.0]), (f"IMP = {sweep.imp:g}", [sweep.imp]), (learnable, sweep.imps()))
    return [(title, pattern_mappings(imps, sweep.weights())) for title, imps in panels]

"""The seeds' default neurons, as factories a builder calls with ``shape=``."""

from __future__ import annotations

from functools import partial

from spikedyn.neurons import LIF, PLIF
from spikedyn.surrogate import Triangle

#: PLIF paper: tau_0 = 2 per layer, V_th = 1, hard reset to 0, detached reset, ATan (alpha 2).
plif_paper_neuron = partial(PLIF, tau=2.0)

#: IMP paper's released code: the state decays by 0.25 = 1 - k each step (k = 0.75, tau = 4/3),
#: the input is not scaled (decay_input=False), hard reset, V_th = 1, triangle surrogate.
#: Add the learnable initial potential with ``partial(LIF, ..., imp="neuron")``.
imp_paper_neuron = partial(LIF, tau=4.0 / 3.0, decay_input=False, surrogate=Triangle())

"""The seeds' default neurons, as factories a builder calls with ``shape=``."""

from __future__ import annotations

from functools import partial

from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.surrogate import ATan, Triangle

#: PLIF paper: tau_0 = 2 per layer, V_th = 1, hard reset to 0, detached reset, ATan (alpha 2).
plif_paper_neuron = partial(PLIF, tau=2.0)

#: IMP paper's VGG code (AmazingLab/amazing-cls vgg_legacy.py L66-70: mem = 0.25 * mem + x, then
#: mem * (1 - spike)): the state keeps 0.25 of V each step, i.e. k = 0.75 (tau = 4/3) with the input
#: not scaled (decay_input=False); V_th = 1; hard reset to 0 whose spike is not detached; the
#: triangle surrogate max(0, 1 - |H - V_th|) (ZIF, gamma 1). Add the learnable initial potential
#: with ``partial(imp_paper_neuron, imp="neuron")``.
imp_paper_neuron = partial(LIF, tau=4.0 / 3.0, decay_input=False, detach_reset=False, surrogate=Triangle())

#: IMP paper's ImageNet scripts (StephenTaylor1998/IMP-SNN in1k/LTS/train.py L245-247): SpikingJelly's
#: IFNode with the ATan surrogate (alpha 2), V_th = 1, hard reset to 0, reset not detached.
imp_imagenet_neuron = partial(IF, detach_reset=False, surrogate=ATan())

"""Learnable initial membrane potential (IMP) vs none at small T, on digits and event_digits (IMP paper)."""

from __future__ import annotations

from typing import Any

from spikedyn.studies.bases import OFFLINE, digits_base, event_digits_base, fashion_mnist_base, smoke_budget
from spikedyn.studies.claims import Check, Claim, difference
from spikedyn.studies.metrics import ACCURACY
from spikedyn.studies.study import Budget, Curves, Study

#: The IMP code's LIF neuron (vgg_legacy.py L52-70): mem = 0.25 mem + x, hard reset not detached, triangle surrogate,
#: one IMP per neuron from U(-0.2, 0.2); "imp" is set by the grid.
IMP_NEURON = {"kind": "lif", "tau": 4.0 / 3.0, "decay_input": False, "detach_reset": False, "surrogate": "triangle", "surrogate_alpha": 1.0,
              "imp_init_range": [-0.2, 0.2]}  # fmt: skip
PANELS = ("data.dataset", "data.options.time_steps")
WITH, WITHOUT = {"model.neuron.imp": "neuron"}, {"model.neuron.imp": None}


def imp_base(base: dict[str, Any], loss: dict[str, Any]) -> dict[str, Any]:
    """A base with the IMP neuron, a non-spiking linear readout (as the IMP code's heads) and the IMP paper's loss."""
    base["model"]["options"] = {"readout": "linear"}
    base["model"]["neuron"] = dict(IMP_NEURON)
    base["loss"] = loss
    return base


def gain_at(time_steps: int) -> list[tuple[float, dict[str, Any]]]:
    """The terms of IMP's gain at ``time_steps``: +with, -without."""
    at = {"data.options.time_steps": time_steps}
    return [(1.0, {**WITH, **at}), (-1.0, {**WITHOUT, **at})]


STUDY = Study(
    name="imp_small_t",
    title="Learnable initial membrane potential at small T",
    question="Does a learnable initial membrane potential raise accuracy when the network has few time steps, and most "
    "at the fewest?",
    bases={
        "digits": imp_base(digits_base(epochs=20), {"name": "lts"}),
        "event_digits": imp_base(event_digits_base(epochs=10), {"name": "tet", "options": {"mse_weight": 0.0}}),
        "fashion_mnist": imp_base(fashion_mnist_base(epochs=8), {"name": "lts"}),
    },
    grid={"data.options.time_steps": [1, 2, 4], "model.neuron.imp": [None, "neuron"]},
    budgets={
        "smoke": smoke_budget(digits="digits", event_digits="event_digits"),
        "full": Budget(seeds=tuple(range(1, 6)), base_seeds={"digits": tuple(range(1, 21))}, bases=OFFLINE,
                       description="20 seeds on digits (at n = 5 the gains were within the seed spread: their intervals "
                       "reached both sides of 0), 5 on event_digits; digits 20 epochs, event_digits 10 epochs"),
        "real": Budget(seeds=tuple(range(1, 6)), bases=("fashion_mnist",),
                       description="5 seeds; Fashion-MNIST, 8 epochs on 120 training images per class, tested on 100 per class"),
    },
    metrics=ACCURACY,
    units={"accuracy": "%"},
    claims=(
        Claim(
            "imp_helps_at_small_t",
            "A learnable IMP accelerates the evolution of the membrane potential, enabling higher performance within a "
            "limited number of time steps.",
            "IMP paper, Sec. 3 (Observations 1-3 and the learnable IMP) and Sec. 4; as seeds 002 and 003 summarise it",
            (difference("IMP - no IMP", WITH, WITHOUT, "positive", within=PANELS),),
        ),
        Claim(
            "imp_gain_largest_at_fewest_steps",
            "IMP matters most when T is small: its gain at T = 1 exceeds its gain at T = 4.",
            "IMP paper, Sec. 3 (the membrane potential needs time steps to evolve, Observation 3 and Fig. 4); our reading",
            (Check("[IMP - none](T=1) - [IMP - none](T=4)", tuple(gain_at(1) + [(-c, w) for c, w in gain_at(4)]), "positive", within=("data.dataset",)),),
            note="the paper does not test this contrast; it follows from its argument that IMP stands in for the time "
            "steps the membrane potential would need to evolve.",
        ),
    ),
    curves=(Curves("test_accuracy", "test_acc", "test accuracy", panels=PANELS, lines=("model.neuron.imp",)),),
    design="The PLIF paper's networks with a non-spiking linear readout and the IMP code's LIF neuron (decay 0.25, hard "
    "reset not detached, triangle surrogate), with or without one learnable IMP per neuron; the IMP paper's losses "
    "(LTS on static digits and Fashion-MNIST, its code's TET on event_digits), the PLIF recipe's Adam at lr 1e-3, protocol B. "
    "Our choice of size: 20 epochs on digits with 20 seeds (5 seeds left both claims inconclusive there, with intervals "
    "about 2 pp wide), 10 on event_digits (16x16 frames) with 5 seeds. The real budget: Fashion-MNIST, a fixed "
    "class-balanced subset of 120 training images per class and 100 test images per class (the first of each class in "
    "file order), 8 epochs, 5 seeds, to fit about an hour on 2 cores; far below the IMP paper's scale.",
)

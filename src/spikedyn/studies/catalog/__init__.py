"""The studies spikedyn ships, by name: each a sweep over offline data plus the seed papers' claims it tests."""

from __future__ import annotations

from spikedyn.studies.catalog import beyond_tau, imp_small_t, loss_convergence, per_neuron_tau, plif_vs_lif, pooling
from spikedyn.studies.study import Study

STUDIES: dict[str, Study] = {
    module.STUDY.name: module.STUDY for module in (plif_vs_lif, pooling, loss_convergence, per_neuron_tau, imp_small_t, beyond_tau)
}


def get_study(name: str) -> Study:
    """The study called ``name``; a ValueError listing the studies otherwise."""
    if name not in STUDIES:
        raise ValueError(f"no study named {name!r}; the studies are {', '.join(STUDIES)} (spikedyn study --list)")
    return STUDIES[name]

"""Training objectives: classification losses over output sequences and tau regularisers."""

from spikedyn.losses.classification import LOSSES, LossRule, SequenceLoss, get_loss
from spikedyn.losses.tau_regularisers import (
    TauClusteringRegulariser,
    TauVarianceRegulariser,
    layer_lambdas,
    plif_layers,
    tau_values,
    tau_variance_penalty,
)

__all__ = [
    "LOSSES",
    "LossRule",
    "SequenceLoss",
    "get_loss",
    "TauClusteringRegulariser",
    "TauVarianceRegulariser",
    "layer_lambdas",
    "plif_layers",
    "tau_values",
    "tau_variance_penalty",
]

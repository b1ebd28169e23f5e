"""A network as the ordered chain of leaf layers its forward pass runs, for the exporter.

Only containers whose forward pass is known to be "each child in turn" are opened:
nn.Sequential, TimeDistributed and StaticImageEncoder (their layers run per step, on
[T*B, ...]; the encoder's once-per-image trick gives the same outputs), and the networks
built as ``classifier(features(x))``. Anything else with children is refused by name, so a
residual block is never exported as if it were a chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import nn

from spikedyn.layers import StaticImageEncoder, TimeDistributed
from spikedyn.models.plifnet import PLIFNet
from spikedyn.models.vgg import VGG11

#: Networks whose forward pass is ``classifier(features(x))`` after an input check.
FEATURES_THEN_CLASSIFIER = (PLIFNet, VGG11)


class NotAChain(ValueError):
    """A module with children whose forward pass the exporter cannot read as a chain of layers."""


@dataclass(frozen=True)
class Leaf:
    """One layer of the chain: its name in the network (as in the state dict), the module, and
    ``per_step``: True when it runs on [T*B, ...] inside a TimeDistributed or the static encoder."""

    name: str
    module: nn.Module
    per_step: bool


def _children(module: nn.Module) -> Iterator[tuple[str, nn.Module, bool]] | None:
    """(name, child, runs per step) in forward order, or None when the order is not known."""
    if isinstance(module, TimeDistributed):
        return iter([("layer", module.layer, True)])
    if isinstance(module, StaticImageEncoder):
        return iter([("layers", module.layers, True)])
    if isinstance(module, nn.Sequential):
        return ((name, child, False) for name, child in module.named_children())
    if isinstance(module, FEATURES_THEN_CLASSIFIER):
        return iter([("features", module.features, False), ("classifier", module.classifier, False)])
    return None


def inference_chain(model: nn.Module, prefix: str = "", per_step: bool = False) -> list[Leaf]:
    """The leaf layers ``model`` runs, in order; a :class:`NotAChain` error names a module that is no chain."""
    children = _children(model)
    if children is None:
        if next(model.children(), None) is None:
            return [Leaf(prefix or type(model).__name__, model, per_step)]
        raise NotAChain(
            f"{prefix or 'the model'} ({type(model).__name__}) has layers of its own but is not a chain that the NIR "
            f"export can read: it follows nn.Sequential, TimeDistributed, StaticImageEncoder and "
            f"{', '.join(cls.__name__ for cls in FEATURES_THEN_CLASSIFIER)} (residual and other branching networks are not exported)"
        )
    leaves: list[Leaf] = []
    for name, child, inner in children:
        leaves += inference_chain(child, f"{prefix}.{name}" if prefix else name, per_step or inner)
    return leaves

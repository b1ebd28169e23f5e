"""A network as the ordered chain of leaf layers its forward pass runs, for the exporter.

Only containers whose forward pass is known to be "each child in turn" are opened:
nn.Sequential, TimeDistributed and StaticImageEncoder (their layers run per step, on
[T*B, ...]; the encoder's once-per-image trick gives the same outputs), the networks
built as ``classifier(features(x))``, and a user's module whose ``forward`` torch.fx reads
as its child modules called one after the other on one input (``return self.b(self.a(x))``).
Anything else with children is refused by name, so a residual block is never exported as if
it were a chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch.fx
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


class _ChildrenAsLeaves(torch.fx.Tracer):
    """Traces one module's own forward, every child module a single call."""

    def __init__(self, root: nn.Module) -> None:
        super().__init__()
        self.root_module = root

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return module is not self.root_module


def _called_in_turn(module: nn.Module) -> list[str] | None:
    """The names of the child modules ``module.forward`` calls one after the other on its one input, or None."""
    try:
        graph = _ChildrenAsLeaves(module).trace(module)
    except Exception:  # noqa: BLE001 - any forward torch.fx cannot trace is not read as a chain
        return None
    order: list[str] = []
    previous = None
    for node in graph.nodes:
        if node.op == "placeholder" and previous is None:
            previous = node
        elif node.op == "call_module" and node.args == (previous,) and not node.kwargs and "." not in str(node.target):
            order.append(str(node.target))
            previous = node
        elif node.op == "output" and node.args == (previous,):
            return order if len(set(order)) == len(order) else None
        else:
            return None
    return None


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
    order = _called_in_turn(module) if next(module.children(), None) is not None else None
    if order is not None:
        return iter([(name, module.get_submodule(name), False) for name in order])
    return None


def inference_chain(model: nn.Module, prefix: str = "", per_step: bool = False) -> list[Leaf]:
    """The leaf layers ``model`` runs, in order; a :class:`NotAChain` error names a module that is no chain."""
    children = _children(model)
    if children is None:
        if next(model.children(), None) is None:
            return [Leaf(prefix or type(model).__name__, model, per_step)]
        raise NotAChain(
            f"{prefix or 'the model'} ({type(model).__name__}) has layers of its own but is not a chain that the NIR "
            f"export can read: it follows nn.Sequential, TimeDistributed, StaticImageEncoder, "
            f"{', '.join(cls.__name__ for cls in FEATURES_THEN_CLASSIFIER)} and modules whose forward calls their child "
            f"modules one after the other on one input, with nothing else (residual and other branching networks are not exported)"
        )
    leaves: list[Leaf] = []
    for name, child, inner in children:
        leaves += inference_chain(child, f"{prefix}.{name}" if prefix else name, per_step or inner)
    return leaves

"""``compact_activations(model)``: a forward pass whose saved tensors take fewer bytes, exactly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from spikedyn.memory.recompute import restore_saved
from spikedyn.memory.session import CompactSession
from spikedyn.memory.stats import CompactionStats


def _compiled(model: nn.Module) -> bool:
    return isinstance(model, torch._dynamo.eval_frame.OptimizedModule)


@contextlib.contextmanager
def compact_activations(model: nn.Module, *, spikes: str = "bits", recompute: bool = True) -> Iterator[CompactionStats]:
    """Run ``model``'s forward passes inside this block with what autograd saves kept small, exactly.

    Spikes saved for backward (a conv's or pooling's input) are kept as bits (``spikes="bits"``)
    or bytes (``"bytes"``, faster to pack), small integers such as SEW sums as bytes, max-pool
    indices as int16/int32, and with ``recompute`` a neuron fed by BN drops H and recomputes it
    in the backward from the BN's saved input. Gradients are bit-identical to a plain run. Only
    the forward pass needs to be inside the block; the backward may run after it. Yields the
    block's :class:`CompactionStats`. A torch.compile'd model is refused: its graph decides
    itself what to save, and the layer hooks this needs would only break it.

    Example::

        with compact_activations(model):
            loss = loss_fn(model(x), labels)
        loss.backward()
    """
    if _compiled(model):
        raise ValueError(
            "compact_activations cannot work inside a torch.compile'd model (its graph chooses what to save, and "
            "the layer hooks it needs would break the graph): pass the uncompiled model, or leave compaction off"
        )
    session = CompactSession(spikes=spikes, recompute=recompute)
    session.install(model)
    try:
        with torch.autograd.graph.saved_tensors_hooks(session.pack, restore_saved):
            yield session.stats
    finally:
        session.close()

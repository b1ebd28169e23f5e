"""Checks on a ``nir.NIRGraph`` before spikedyn builds layers from it: size, edges, finite numbers.

They run on every graph ``from_nir`` imports, read from a file or built in memory (by a peer
library or by hand, where nothing has checked the values), each in time linear in the graph.
"""

from __future__ import annotations

from typing import Any

import nir
import numpy as np
import torch

from spikedyn.interop.nir_errors import NIRImportError
from spikedyn.interop.nir_limits import NIRLimits
from spikedyn.interop.nir_schema import NODE_FIELDS, NUMBERS_OR_TEXT, listing


def check_size(graph: nir.NIRGraph, limits: NIRLimits) -> None:
    """Refuse a graph with more nodes or edges than ``limits`` allow, before anything walks it."""
    if len(graph.nodes) > limits.max_nodes:
        raise NIRImportError(f"the graph has {len(graph.nodes):,} nodes, more than NIRLimits.max_nodes = {limits.max_nodes:,}")
    if len(graph.edges) > limits.max_edges:
        raise NIRImportError(f"the graph has {len(graph.edges):,} edges, more than NIRLimits.max_edges = {limits.max_edges:,}")


def check_edges(graph: nir.NIRGraph) -> None:
    """Refuse edges that name a node the graph lacks, or that repeat."""
    unknown = sorted({str(end) for edge in graph.edges for end in edge if end not in graph.nodes})
    if unknown:
        raise NIRImportError(f"the graph's edges name nodes it lacks: {listing(unknown)}")
    seen: set[tuple[str, str]] = set()
    for source, target in graph.edges:
        if (source, target) in seen:
            raise NIRImportError(f"the graph has the edge ({source!r}, {target!r}) twice")
        seen.add((source, target))


def _numbers(value: Any) -> np.ndarray | None:
    """``value`` as a numpy array when it holds numbers (torch tensors included), else None."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        value = value.to(torch.float64) if value.is_floating_point() else value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    return array if array.dtype.kind in "iuf" else None


def check_values(graph: nir.NIRGraph) -> None:
    """Refuse a node field of :data:`NODE_FIELDS` that holds no numbers, or NaN or infinite ones, naming node and field."""
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        for key, spec in NODE_FIELDS.get(kind, {}).items():
            value = getattr(node, key, None)
            if value is None or isinstance(value, dict) or (isinstance(value, str) and spec.kind == NUMBERS_OR_TEXT):
                continue  # absent, a shape nir keeps as {"input": ...}, or padding 'same'/'valid'
            array = _numbers(value)
            if array is None:
                raise NIRImportError(f"node {name!r} ({kind}) field {key!r} holds {type(value).__name__} {_short(value)}, expected numbers")
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
                raise NIRImportError(f"node {name!r} ({kind}) field {key!r} holds {nan:,} NaN and {inf:,} infinite values "
                                     f"of {array.size:,}: NIR parameters must be finite numbers")  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

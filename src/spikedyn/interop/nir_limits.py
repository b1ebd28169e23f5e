"""How much a NIR import reads at most, so a hostile file is refused from its metadata, not from memory.

The defaults lie far above any network spikedyn trains or runs: VGG-16's largest layer (a
25088 x 4096 Linear, 103M weights) is 411 MB in float32 and 822 MB in the float64 that NIR
neuron fields use, within one array's 2**28 elements and 1 GiB; a whole file may declare 4 GiB
of arrays; a graph may hold 10,000 nodes (a SEW-ResNet-152 exported layer by layer has under
1,000) and 100,000 edges. A file declaring more is refused before any array is read; pass
``from_nir(path, dt, limits=NIRLimits(...))`` to raise (or lower) a limit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class NIRLimits:
    """The most a NIR import accepts: per array and per file (bytes as declared), nodes and edges per graph."""

    max_array_elements: int = 2**28
    max_array_bytes: int = 2**30
    max_total_bytes: int = 2**32
    max_nodes: int = 10_000
    max_edges: int = 100_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"NIRLimits.{field.name} must be a whole number >= 1, got {value!r}")

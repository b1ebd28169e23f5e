"""Activation memory: keep what the backward pass needs in the fewest bytes that hold it exactly.

:func:`compact_activations` packs spikes into bits, stores max-pool indices narrower and
recomputes BN-fed neurons' H in the backward pass; gradients stay bit-identical. It sits above
``models`` (it knows the SEW block's sums) and below ``training``, which turns it on by default.
"""

from spikedyn.memory.context import compact_activations
from spikedyn.memory.packing import BINARY, Levels, PackedStorage, PackedView
from spikedyn.memory.stats import CompactionStats

__all__ = ["BINARY", "CompactionStats", "Levels", "PackedStorage", "PackedView", "compact_activations"]

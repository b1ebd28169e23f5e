"""What one compact forward pass stored smaller or dropped, in bytes, for reports and tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CompactionStats:
    """Counts and bytes of one ``compact_activations`` block."""

    packed_storages: int = 0  # distinct spike (or small-integer) storages packed
    packed_from_bytes: int = 0  # their size as they were
    packed_to_bytes: int = 0  # their size packed
    narrowed_indices: int = 0  # max-pool index tensors stored narrower
    indices_from_bytes: int = 0
    indices_to_bytes: int = 0
    recomputed_potentials: int = 0  # neuron calls whose H is recomputed in the backward
    recomputed_bytes: int = 0  # the bytes of H not kept

    @property
    def saved_bytes(self) -> int:
        """Bytes autograd no longer keeps, compared with the same forward pass without compaction."""
        return (self.packed_from_bytes - self.packed_to_bytes) + (self.indices_from_bytes - self.indices_to_bytes) + self.recomputed_bytes

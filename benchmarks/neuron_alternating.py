"""The torch operator run before each step of an alternating measurement: a neuron inside a network.

Inside a training step the neuron runs between torch's own operators, whose OpenMP threads are
still spinning when the neuron starts; measured alone, back to back, it never meets them. The
benchmarks time both and show them side by side.
"""

from __future__ import annotations

from typing import Any

DESCRIPTION = "torch.mm [1024, 512] x [512, 1024] float32 (1.07 GFLOP, untimed) before each timed step"


class Alternator:
    """Runs the torch operator that precedes each alternating step (on torch's own threads)."""

    def __init__(self) -> None:
        import torch

        generator = torch.Generator().manual_seed(1)
        self.a = torch.randn(1024, 512, generator=generator)
        self.w = torch.randn(512, 1024, generator=generator)
        self.out = torch.empty(1024, 1024)

    def __call__(self) -> Any:
        """One matmul into a preallocated output (so no page faults of its own)."""
        import torch

        return torch.mm(self.a, self.w, out=self.out)

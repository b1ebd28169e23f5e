#!/usr/bin/env python
"""Forward+backward time of the fused ALIF and CubaLIF against the fused PLIF, side by side in one process.

Usage: ``python benchmarks/extended_neuron.py [--steps 16] [--total 1048576] [--threads 2] [--rounds 15]``.
The three neurons (per-layer time constants, as the PLIF paper's) take turns within each round on
the same input, x = 1.5 N(0, 1) + 0.5 [T, 64, total / 64], float32; the loss feeds dL/dspikes = g
directly (``spikes.backward(g)``) and, in a second column, ``spikes.sum().backward()``. On a
loaded machine only the ratios of medians mean something; the absolute times are printed for scale.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from spikedyn.neurons import ALIF, PLIF, CubaLIF

BATCH = 64


def _step(neuron: torch.nn.Module, x: torch.Tensor, g: torch.Tensor | None) -> float:
    """Seconds of one forward+backward."""
    leaf = x.detach().requires_grad_(True)
    start = time.perf_counter()
    spikes = neuron(leaf)
    if g is None:
        spikes.sum().backward()
    else:
        spikes.backward(g)
    return time.perf_counter() - start


def main() -> None:
    """Print the median forward+backward times and their ratios to PLIF's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--total", type=int, default=1 << 20, help="B * N")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.total // BATCH
    neurons = {"PLIF": PLIF(2.0, backend="fused"), "ALIF": ALIF(2.0, backend="fused"), "CubaLIF": CubaLIF(2.0, backend="fused")}
    x = torch.randn(args.steps, BATCH, n) * 1.5 + 0.5
    g = torch.rand(x.shape)
    for loss, weights in (("backward(g)", g), ("sum().backward()", None)):
        times: dict[str, list[float]] = {name: [] for name in neurons}
        for round_index in range(args.rounds + 2):  # two warm-up rounds: numba compiles, buffers are pooled
            for name, neuron in neurons.items():
                seconds = _step(neuron, x, weights)
                if round_index >= 2:
                    times[name].append(seconds)
        base = statistics.median(times["PLIF"])
        print(f"T={args.steps} B*N={args.total} threads={args.threads} loss={loss} rounds={args.rounds}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:8s} median {1e3 * median:8.1f} ms  min {1e3 * min(values):8.1f} ms  ratio to PLIF {median / base:5.2f}")


if __name__ == "__main__":
    main()

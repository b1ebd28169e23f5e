"""Damaged copies of a valid file, reproducible from a seed: truncations, bit flips, random byte runs, garbage."""

from __future__ import annotations

import random


def mutations(
    data: bytes, seed: int, stride: int = 3, flips: int = 200, runs: int = 80, garbage: int = 20, keep: int = 14
) -> dict[str, bytes]:
    """Name -> damaged copy of ``data``: truncations every ``stride`` bytes, ``flips`` copies with 1-4 bits flipped,
    ``runs`` with 1-8 bytes overwritten at random, and ``garbage`` that keep the first ``keep`` bytes (the magic)."""
    rng = random.Random(seed)
    corpus = {f"truncated_{n}": data[:n] for n in range(0, len(data), stride)}
    for k in range(flips):
        copy = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            copy[rng.randrange(len(copy))] ^= 1 << rng.randrange(8)
        corpus[f"flipped_{k}"] = bytes(copy)
    for k in range(runs):
        copy = bytearray(data)
        start, size = rng.randrange(len(copy)), rng.randint(1, 8)
        copy[start : start + size] = rng.randbytes(size)
        corpus[f"overwritten_{k}"] = bytes(copy)
    for k in range(garbage):
        corpus[f"garbage_{k}"] = data[:keep] + rng.randbytes(rng.randint(0, 2 * len(data)))
    return corpus

"""Norse 1.1 networks run over whole sequences [T, B, ...], with every node's (or layer's) output kept."""

from __future__ import annotations

import torch


def norse_nodes(module: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output [T, B, ...] from Norse's graph executor (``norse.from_nir``), run batched."""
    state, steps = None, []
    with torch.no_grad():
        for x_t in x:
            _, state = module(x_t, state)
            steps.append(dict(state.cache))
    return {name: torch.stack([step[name] for step in steps]) for name in steps[0]}


def run_norse_per_sample(module: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """:func:`norse_nodes` fed one sample at a time without a batch dimension, for graphs with a Flatten
    (Norse's takes NIR's start_dim, which counts no batch)."""
    samples = [norse_nodes(module, x[:, b]) for b in range(x.shape[1])]
    return {name: torch.stack([sample[name] for sample in samples], dim=1) for name in samples[0]}


def run_norse(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Norse's output sequence for x [T, B, ...], run batched (no Flatten here)."""
    state, outputs = None, []
    with torch.no_grad():
        for x_t in x:
            out, state = module(x_t, state)
            outputs.append(out)
    return torch.stack(outputs)


def norse_layers(sequence: torch.nn.Sequential, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each layer's output [T, B, ...] of a Norse ``SequentialState``, by its index as ``norse.to_nir`` names the nodes."""
    states: dict[str, object] = {}
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name, _ in sequence.named_children()}
    with torch.no_grad():
        for x_t in x:
            value = x_t
            for name, layer in sequence.named_children():
                if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Flatten)):
                    value = layer(value)
                else:
                    value, states[name] = layer(value, states.get(name))
                outputs[name].append(value)
    return {name: torch.stack(values) for name, values in outputs.items()}

"""A NIR graph run literally, step by step, in float64: the tests' independent reading of the format.

LIF: one Euler step of tau dv/dt = (v_leak - v) + r I of length dt; IF: v += r I per step (the
convention of Norse, snnTorch and sinabs); CubaLIF: one Euler step of tau_syn dI/dt = -I + w_in S
from I = 0, then the LIF step driven by that new I; all fire where v > v_threshold and then
reset to v_reset, starting at v_leak (LIF, CubaLIF) or v_reset (IF). Other nodes act on
[B, *shape] per step.
"""

from __future__ import annotations

import nir
import numpy as np
import torch
import torch.nn.functional as F


def _order(graph: nir.NIRGraph) -> list[str]:
    done: list[str] = []
    while len(done) < len(graph.nodes):
        done += [n for n in graph.nodes if n not in done and all(s in done for s, d in graph.edges if d == n)]
    return done


def _stateless(node: nir.NIRNode, x: torch.Tensor) -> torch.Tensor:
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    if isinstance(node, nir.Affine):
        return x @ t(node.weight).T + t(node.bias)
    if isinstance(node, nir.Linear):
        return x @ t(node.weight).T
    if isinstance(node, nir.Conv2d):
        return F.conv2d(x, t(node.weight), t(node.bias), tuple(node.stride), tuple(node.padding), tuple(node.dilation), node.groups)
    if isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
        kernel = tuple(int(k) for k in node.kernel_size)
        mean = F.avg_pool2d(x, kernel, tuple(int(s) for s in node.stride), tuple(int(p) for p in node.padding))
        return mean * (kernel[0] * kernel[1]) if isinstance(node, nir.SumPool2d) else mean
    if isinstance(node, nir.Flatten):
        end = node.end_dim + 1 if node.end_dim >= 0 else node.end_dim
        return x.flatten(node.start_dim + 1, end)
    raise NotImplementedError(type(node).__name__)


def run_nir(graph: nir.NIRGraph, x: torch.Tensor, dt: float) -> dict[str, torch.Tensor]:
    """Every node's output [T, B, ...] for the input sequence ``x`` [T, B, ...]."""
    order, state, outputs = _order(graph), {}, {name: [] for name in graph.nodes}
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    for x_t in x.to(torch.float64):
        now: dict[str, torch.Tensor] = {}
        for name in order:
            node = graph.nodes[name]
            inputs = [now[s] for s, d in graph.edges if d == name]
            i = x_t if isinstance(node, nir.Input) else sum(inputs)
            if isinstance(node, nir.CubaLIF):
                current = state.get(f"{name} current", torch.zeros_like(i))
                i = state[f"{name} current"] = current + dt / t(node.tau_syn) * (t(node.w_in) * i - current)
            if isinstance(node, (nir.LIF, nir.IF, nir.CubaLIF)):
                v = state.get(name, t(node.v_reset if isinstance(node, nir.IF) else node.v_leak).expand_as(i))
                if isinstance(node, (nir.LIF, nir.CubaLIF)):
                    tau = node.tau_mem if isinstance(node, nir.CubaLIF) else node.tau
                    v = v + dt / t(tau) * (t(node.v_leak) - v + t(node.r) * i)
                else:
                    v = v + t(node.r) * i
                z = (v > t(node.v_threshold)).to(torch.float64)
                state[name] = torch.where(z.bool(), t(node.v_reset).expand_as(v), v)
                now[name] = z
            elif isinstance(node, (nir.Input, nir.Output)):
                now[name] = i
            else:
                now[name] = _stateless(node, i)
            outputs[name].append(now[name])
    return {name: torch.stack(values) for name, values in outputs.items()}

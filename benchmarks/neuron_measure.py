"""The worker side of benchmarks/neuron.py: one contender on one configuration, timed in this process."""

from __future__ import annotations

import json
import os
import statistics
import sys
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import (
    cpu_counters,
    max_rss_bytes,
    other_cpu_percent,
    release_free_memory,
    reset_peak_rss,
    timed,
    tune_allocator,
    write_json_atomic,
)
from neuron_alternating import Alternator
from neuron_contenders import BATCH, CONTENDERS, MODES, Config, Forward, Mode

MIB = 1 << 20
NUMBA_MODULES = ("numba_loops", "numba_kernel")  # where spikedyn's numba functions live

@dataclass(frozen=True)
class Spec:
    """What one worker measures."""

    key: str
    steps: int
    total: int
    mode: str
    repeats: int
    threads: int
    budget_s: float



class _Packed:
    """What the pack hook hands autograd: the saved tensor, plus a weakref slot to see it freed."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor


def saved_storage_bytes(forward: Forward, x: Any, module: Any) -> int:
    """Bytes of the distinct storages autograd still holds for backward once ``forward(x)`` returns.

    Tensors saved by graph branches that die during the forward are not counted; x's own
    storage (views of x included) and the module's parameters and buffers are excluded.
    """
    import torch

    own = [x, *module.parameters(), *module.buffers()]
    excluded = {t.untyped_storage().data_ptr() for t in own}
    live: dict[int, Any] = {}

    def pack(t: torch.Tensor) -> _Packed:
        packed = _Packed(t)
        live[id(packed)] = t.untyped_storage()
        weakref.finalize(packed, live.pop, id(packed), None)
        return packed

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda packed: packed.tensor):
        out = forward(x)  # noqa: F841 - keeps the graph, and so the saved tensors, alive
        storages = {s.data_ptr(): s.nbytes() for s in live.values()}
    del out
    return sum(nbytes for ptr, nbytes in storages.items() if ptr not in excluded)


def adapt_repeats(spec: Spec, estimate_s: float) -> int:
    """Repeats that fit the time budget, at least min(3, requested)."""
    fit = int(spec.budget_s / max(estimate_s, 1e-6))
    return max(min(3, spec.repeats), min(spec.repeats, fit))


def _hit_or_miss(hits: int, misses: int) -> str | None:
    return "miss" if misses else ("hit" if hits else None)


def inductor_cache_state() -> str | None:
    """'hit' or 'miss' for Inductor's on-disk FX graph cache, None when nothing was compiled."""
    from torch._dynamo.utils import counters

    stats = counters["inductor"]
    return _hit_or_miss(stats.get("fxgraph_cache_hit", 0), stats.get("fxgraph_cache_miss", 0))


def numba_cache_state() -> str | None:
    """'hit' or 'miss' for numba's on-disk cache of spikedyn's CPU kernels, None when none ran."""
    modules = [sys.modules.get(f"spikedyn.neurons.backends.{name}") for name in NUMBA_MODULES]
    stats = [obj.stats for module in modules if module for obj in vars(module).values() if hasattr(obj, "stats")]
    hits = sum(sum(getattr(st, "cache_hits", {}).values()) for st in stats)
    misses = sum(sum(getattr(st, "cache_misses", {}).values()) for st in stats)
    return _hit_or_miss(hits, misses)


def compile_cache_state(backend: str) -> str | None:
    """'numba cache hit', 'inductor cache miss', ...: was the first call a compile or a cache load?"""
    probes = {"fused": ("numba", numba_cache_state), "torch.compile": ("inductor", inductor_cache_state)}
    if backend not in probes:
        return None
    name, probe = probes[backend]
    state = probe()
    return None if state is None else f"{name} cache {state}"


@dataclass
class Problem:
    """One contender on one configuration: its module, forward, and how its steps are fed (its mode)."""

    module: Any
    forward: Forward
    mode: Mode
    shape: tuple[int, int, int]
    x: Any = None  # the input of every step, unless the mode draws a fresh one
    g: Any = None  # the loss weights, unless the mode's loss is spikes.sum()

    def next_input(self) -> Any:
        """The input of the next step: the fixed x, or a new ``torch.randn(T, B, N, requires_grad=True)``."""
        if not self.mode.fresh_input:
            return self.x
        import torch

        return torch.randn(self.shape, requires_grad=True)

    def clear_grads(self, x: Any) -> None:
        """Drop the gradients of the previous step (as an optimizer's zero_grad would)."""
        x.grad = None
        self.module.zero_grad(set_to_none=True)

    def step(self, x: Any) -> None:
        """One training step of the neuron on input x: forward, then backward.

        Best case: ``spikes.backward(g)`` feeds dL/dspikes = g directly, so the time is the neuron's
        own, not that of building and differentiating the loss (a further 64 MiB product at 2**20).
        User-first: ``spikes.sum().backward()``, whose incoming gradient is a stride-0 expanded scalar.
        """
        self.clear_grads(x)
        spikes = self.forward(x)
        if self.mode.sum_loss:
            spikes.sum().backward()
        else:
            spikes.backward(self.g)

    def timed_step(self) -> float:
        """Seconds of one step; making its input is not timed."""
        x = self.next_input()
        return timed(lambda: self.step(x))

    def timed_forward(self) -> float:
        """Seconds of one forward (autograd recording, graph then dropped); making its input is not timed."""
        x = self.next_input()
        return timed(lambda: self.forward(x))


def build_problem(spec: Spec) -> Problem:
    """The contender, seeded; in the best-case modes also x = 1.5 N(0, 1) + 0.5 [T, B, N] and loss weights g."""
    import torch

    torch.set_num_threads(spec.threads)
    torch.manual_seed(0)
    config = Config(spec.steps, spec.total)
    module, forward = CONTENDERS[spec.key].build(config.neurons)
    mode, shape = MODES[spec.mode], (config.steps, BATCH, config.neurons)
    problem = Problem(module, forward, mode, shape)
    if not mode.fresh_input:
        problem.x = (torch.randn(shape) * 1.5 + 0.5).requires_grad_()
    if not mode.sum_loss:
        problem.g = torch.randn(shape)
    return problem


def timed_with_peak(problem: Problem) -> tuple[float, float | None]:
    """(seconds, peak-RSS growth in MiB or None) of one step, from a trimmed heap and no gradients."""
    x = problem.next_input()  # before the peak is reset: making the input is not part of the step
    problem.clear_grads(x)
    release_free_memory()
    can_reset = reset_peak_rss()
    before = max_rss_bytes()
    seconds = timed(lambda: problem.step(x))
    return seconds, (max_rss_bytes() - before) / MIB if can_reset else None


def alternating_times(problem: Problem, repeats: int) -> list[float]:
    """Seconds of ``repeats`` steps, each right after a torch matmul (untimed), as inside a network."""
    alternate = Alternator()
    times = []
    for _ in range(repeats):
        x = problem.next_input()
        alternate()
        times.append(timed(lambda: problem.step(x)))
    return times


def measure(spec: Spec) -> dict[str, Any]:
    """Time and memory of one contender on one configuration, in this process."""
    problem = build_problem(spec)
    first_s, first_rss = timed_with_peak(problem)
    estimate_s, peak_rss = timed_with_peak(problem)
    repeats = adapt_repeats(spec, estimate_s)
    counters = cpu_counters()  # after compilation: compile workers are other processes
    forward_times = [problem.timed_forward() for _ in range(repeats)]
    times = [problem.timed_step() for _ in range(repeats)]
    alternating = alternating_times(problem, repeats)
    other_cpu_pct = other_cpu_percent(counters, cpu_counters())
    try:
        saved_mb: float | None = saved_storage_bytes(problem.forward, problem.next_input(), problem.module) / MIB
    except Exception:  # noqa: BLE001 - a contender may refuse saved-tensor hooks
        saved_mb = None
    median_s = statistics.median(times)
    return {
        "repeats": repeats,
        "median_s": median_s,
        "min_s": min(times),
        "times_s": times,
        "alternating_median_s": statistics.median(alternating),
        "alternating_min_s": min(alternating),
        "forward_median_s": statistics.median(forward_times),
        "forward_min_s": min(forward_times),
        "first_call_s": first_s,
        "first_call_overhead_s": first_s - median_s,
        "peak_rss_MB": peak_rss,
        "first_call_rss_MB": first_rss,
        "saved_for_backward_MB": saved_mb,
        "compile_cache": compile_cache_state(CONTENDERS[spec.key].backend),
        "loadavg_1min": os.getloadavg()[0],
        "other_cpu_pct": other_cpu_pct,
    }


def worker_main(result_path: Path) -> None:
    """Measure the specs read as JSON from stdin (one mode), writing results after each."""
    specs = [Spec(**d) for d in json.load(sys.stdin)]
    tuned = MODES[specs[0].mode].allocator == "tuned" and tune_allocator()
    results = []
    for spec in specs:
        try:
            result = measure(spec)
        except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
            result = {"error": f"{type(exc).__name__}: {exc}"}
        results.append({**result, "allocator_applied": tuned})
        write_json_atomic(result_path, results)

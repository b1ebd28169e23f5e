#!/usr/bin/env python
"""Forward+backward time and memory of spikedyn's neurons against SpikingJelly, snnTorch and Norse.

Usage: ``python benchmarks/neuron.py [--quick] [--only SUBSTRING] [--mode MODE] [--out PATH]``; see
benchmarks/README.md for what is measured, in which modes (best case, user-first), and what each
column means. Every measurement runs in a fresh subprocess of this script (``--worker``), so heap
state and peak RSS of one contender never leak into the next.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_common import (
    cpu_counters,
    machine_info,
    max_rss_bytes,
    other_cpu_percent,
    package_version,
    release_free_memory,
    reset_peak_rss,
    timed,
    tune_allocator,
    write_json_atomic,
)

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "neuron.json"
BATCH = 64
MIB = 1 << 20
WORKER_TIMEOUT_S = 300
BUSY_PERCENT = 15.0  # other processes' share of the machine's CPU above which a row is flagged and retried

# --------------------------------------------------------------------------- configurations


@dataclass(frozen=True)
class Config:
    """One problem size: T steps, a batch of BATCH, N = total // BATCH neurons of shape (N,)."""

    steps: int
    total: int

    @property
    def neurons(self) -> int:
        """N, the feature size of one sample."""
        return self.total // BATCH

    def label(self) -> str:
        """'T=16 B*N=2**20'."""
        return f"T={self.steps} B*N=2**{self.total.bit_length() - 1}"


FULL_CONFIGS = tuple(Config(t, n) for t in (8, 16) for n in (1 << 16, 1 << 20))
QUICK_CONFIGS = (Config(4, 1 << 12),)
SUMMARY_CONFIG, QUICK_SUMMARY_CONFIG = Config(16, 1 << 20), QUICK_CONFIGS[0]


@dataclass(frozen=True)
class Mode:
    """How a step is driven: which input, which loss, which allocator."""

    name: str
    allocator: str  # "default" (glibc as is) or "tuned" (tune_cpu_allocator)
    fresh_input: bool  # a new randn x per step (made before the timer), else one fixed x
    sum_loss: bool  # spikes.sum().backward() (a stride-0 incoming gradient), else spikes.backward(g)

    def describe(self) -> dict[str, str]:
        """The mode's settings as JSON fields."""
        return {
            "allocator": self.allocator,
            "input": "fresh randn per step" if self.fresh_input else "fixed 1.5 randn + 0.5",
            "loss": "spikes.sum().backward()" if self.sum_loss else "spikes.backward(g)",
        }


MODES = {
    m.name: m
    for m in (
        Mode("user-first", "default", fresh_input=True, sum_loss=True),
        Mode("best-default", "default", fresh_input=False, sum_loss=False),
        Mode("best-tuned", "tuned", fresh_input=False, sum_loss=False),
    )
}

# --------------------------------------------------------------------------- contenders

Forward = Callable[[Any], Any]
Builder = Callable[[int], "tuple[Any, Forward]"]


@dataclass(frozen=True)
class Contender:
    """A neuron implementation: ``build(N)`` returns (module, forward) for inputs [T, B, N]."""

    name: str
    backend: str
    build: Builder
    package: str
    release: str = ""  # the peer's release this contender is written for, as a version prefix

    @property
    def key(self) -> str:
        """Unique name, also what --only matches against."""
        return f"{self.name} [{self.backend}]"

    def missing(self) -> str | None:
        """Why it cannot run here (package absent, or another release than it is written for), else None."""
        if importlib.util.find_spec(self.package) is None:
            return f"package {self.package!r} is not installed"
        version = package_version(self.package) or "?"
        if self.release and not f"{version}.".startswith(f"{self.release}."):
            return f"{self.package} {version} is installed, this contender is written for {self.release}"
        return None


def spikedyn_builder(kind: str, imp: str | None, backend: str) -> Builder:
    """LIF (kind='LIF') or PLIF with tau_shape=kind, tau=2, on the given spikedyn backend."""

    def build(neurons: int) -> tuple[Any, Forward]:
        from spikedyn.neurons import LIF, PLIF

        options = dict(shape=(neurons,), imp=imp, backend=backend)
        module = LIF(tau=2.0, **options) if kind == "LIF" else PLIF(tau=2.0, tau_shape=kind, **options)
        return module, module

    return build


def spikingjelly_builder(compiled: bool) -> Builder:
    """SpikingJelly 2.0's multi-step ParametricLIFNode, eager or under torch.compile; reset before each call."""

    def build(neurons: int) -> tuple[Any, Forward]:
        import torch
        from spikingjelly.activation_based import functional, neuron, surrogate

        node = neuron.ParametricLIFNode(
            init_tau=2.0, detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan(),
        )  # fmt: skip
        call = torch.compile(node) if compiled else node

        def forward(x: Any) -> Any:
            functional.reset_net(node)
            return call(x)

        return node, forward

    return build


def snntorch_build(neurons: int) -> tuple[Any, Forward]:
    """snnTorch 1.0's Leaky with a learnable beta, looped over T by hand as its tutorials do."""
    import snntorch
    import torch

    leaky = snntorch.Leaky(beta=0.5, learn_beta=True)

    def forward(x: Any) -> Any:
        mem = leaky.reset_mem()
        spikes = []
        for x_t in x:
            spk, mem = leaky(x_t, mem)
            spikes.append(spk)
        return torch.stack(spikes)

    return leaky, forward


def norse_build(neurons: int) -> tuple[Any, Forward]:
    """Norse 1.1's LIF over time with a learnable tau_mem_inv (a parameter inside LIFParameters, as Norse's guide does).

    dt * tau_mem_inv = 0.5 is k = 1/tau of tau = 2, and dt * tau_syn_inv = 1 makes the synaptic current hold
    one step's input only: PLIF's charge with decay_input, hard reset to 0 and V_th = 1 (Norse's defaults).
    """
    import torch
    from norse.torch import LIF, LIFParameters

    dt = 1e-3
    tau_mem_inv = torch.nn.Parameter(torch.tensor(0.5 / dt))
    lif = LIF(p=LIFParameters(tau_syn_inv=torch.tensor(1.0 / dt), tau_mem_inv=tau_mem_inv), dt=dt)
    lif.tau_mem_inv = tau_mem_inv  # registered, so zero_grad and the parameter list see it

    def forward(x: Any) -> Any:
        spikes, _ = lif(x)
        return spikes

    return lif, forward


def all_contenders() -> list[Contender]:
    """Every contender, installed or not, in table order."""
    contenders = []
    for backend in ("fused", "reference"):
        for kind, label in (("LIF", "LIF"), ("layer", "PLIF(layer)"), ("neuron", "PLIF(neuron)")):
            for imp in (None, "neuron"):
                name = f"spikedyn {label}" + ("+IMP" if imp else "")
                contenders.append(Contender(name, backend, spikedyn_builder(kind, imp, backend), "spikedyn"))
    contenders.append(Contender("SJ PLIF", "eager", spikingjelly_builder(False), "spikingjelly", "2.0"))
    contenders.append(Contender("SJ PLIF", "torch.compile", spikingjelly_builder(True), "spikingjelly", "2.0"))
    contenders.append(Contender("snnTorch Leaky", "eager", snntorch_build, "snntorch", "1.0"))
    contenders.append(Contender("Norse LIF", "eager", norse_build, "norse", "1.1"))
    return contenders


CONTENDERS = {c.key: c for c in all_contenders()}

# --------------------------------------------------------------------------- process memory



# --------------------------------------------------------------------------- one measurement (worker side)


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
    kernels = sys.modules.get("spikedyn.neurons.backends.numba_kernel")
    stats = [obj.stats for obj in vars(kernels).values() if hasattr(obj, "stats")] if kernels else []
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


def measure(spec: Spec) -> dict[str, Any]:
    """Time and memory of one contender on one configuration, in this process."""
    problem = build_problem(spec)
    first_s, first_rss = timed_with_peak(problem)
    estimate_s, peak_rss = timed_with_peak(problem)
    repeats = adapt_repeats(spec, estimate_s)
    counters = cpu_counters()  # after compilation: compile workers are other processes
    forward_times = [problem.timed_forward() for _ in range(repeats)]
    times = [problem.timed_step() for _ in range(repeats)]
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


# --------------------------------------------------------------------------- driver side



def run_worker(specs: list[Spec]) -> list[dict[str, Any]]:
    """Run ``specs`` in one fresh subprocess of this script; one result dict per spec."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(result_path)]
        payload = json.dumps([asdict(s) for s in specs])
        try:
            proc = subprocess.run(cmd, input=payload, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
            problem = f"worker exited with {proc.returncode}: {proc.stderr.strip()[-500:]}" if proc.returncode else ""
        except subprocess.TimeoutExpired:
            problem = f"worker timed out after {WORKER_TIMEOUT_S} s"
        results = json.loads(result_path.read_text()) if result_path.exists() else []
    return results + [{"error": problem or "no result"}] * (len(specs) - len(results))


def record(spec: Spec, result: dict[str, Any]) -> dict[str, Any]:
    """One JSON row: what was measured and the figures."""
    contender = CONTENDERS[spec.key]
    config = Config(spec.steps, spec.total)
    where = dict(contender=contender.name, backend=contender.backend, T=spec.steps, B=BATCH, N=config.neurons)
    how = {"mode": spec.mode, **MODES[spec.mode].describe(), "threads": spec.threads}
    return {**where, "BN": spec.total, **how, **result}


def select_contenders(only: str | None) -> tuple[list[Contender], list[str]]:
    """(contenders to run, notes on the ones left out)."""
    chosen, skipped = [], []
    for contender in CONTENDERS.values():
        if only and only.lower() not in contender.key.lower():
            continue
        reason = contender.missing()
        if reason is None:
            chosen.append(contender)
        else:
            skipped.append(f"{contender.key}: {reason}")
    return chosen, skipped


def plan(args: argparse.Namespace) -> tuple[list[list[Spec]], list[str]]:
    """Batches of specs, one batch per subprocess (all of one mode under --quick)."""
    contenders, skipped = select_contenders(args.only)
    configs = QUICK_CONFIGS if args.quick else FULL_CONFIGS
    repeats = 2 if args.quick else args.repeats
    specs = [
        Spec(c.key, cfg.steps, cfg.total, mode, repeats, args.threads, args.budget)
        for cfg in configs
        for c in contenders
        for mode in args.mode
    ]
    if args.quick:
        return [batch for mode in args.mode if (batch := [s for s in specs if s.mode == mode])], skipped
    return [[s] for s in specs], skipped


def is_busy(result: dict[str, Any]) -> bool:
    """True when other processes took more than BUSY_PERCENT of the CPU during the measurement."""
    return (result.get("other_cpu_pct") or 0.0) > BUSY_PERCENT


def run_batch(batch: list[Spec]) -> list[dict[str, Any]]:
    """Run one batch; a single measurement disturbed by other processes is run once more, the calmer kept."""
    results = run_worker(batch)
    if len(batch) == 1 and is_busy(results[0]):
        again = run_worker(batch)[0]
        calmer = min((results[0], again), key=lambda r: r.get("other_cpu_pct") or 0.0)
        results = [{**calmer, "attempts": 2}]
    return results


def run_all(batches: list[list[Spec]]) -> list[dict[str, Any]]:
    """Run every batch in its own subprocess, reporting progress on stderr."""
    records = []
    total = sum(len(b) for b in batches)
    for batch in batches:
        start = time.perf_counter()
        results = run_batch(batch)
        wall = time.perf_counter() - start
        for spec, result in zip(batch, results):
            records.append(record(spec, result))
            status = result.get("error") or f"{result['median_s'] * 1e3:.1f} ms"
            cfg = Config(spec.steps, spec.total).label()
            print(f"[{len(records)}/{total}] {spec.key} {cfg} {spec.mode}: {status} ({wall:.1f} s)", file=sys.stderr)
    return records


# --------------------------------------------------------------------------- report


def _num(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def notes(row: dict[str, Any]) -> str:
    """Free-text remarks for a row: its error, whether its first call compiled, whether the machine was busy."""
    if row.get("error"):
        return f"ERROR {row['error']}"
    remarks = [row["compile_cache"]] if row.get("compile_cache") else []
    if is_busy(row):
        remarks.append(f"BUSY: others took {row['other_cpu_pct']:.0f}% CPU")
    return "; ".join(remarks)


COLUMNS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("contender", lambda r: r["contender"]),
    ("backend", lambda r: r["backend"]),
    ("T", lambda r: str(r["T"])),
    ("B*N", lambda r: f"2**{r['BN'].bit_length() - 1}"),
    ("mode", lambda r: r["mode"]),
    ("median ms", lambda r: _num(r.get("median_s"), 1e3, 2)),
    ("min ms", lambda r: _num(r.get("min_s"), 1e3, 2)),
    ("fwd ms", lambda r: _num(r.get("forward_median_s"), 1e3, 2)),
    ("first-call ms", lambda r: _num(r.get("first_call_s"), 1e3, 0)),
    ("peak RSS MB", lambda r: _num(r.get("peak_rss_MB"))),
    ("1st RSS MB", lambda r: _num(r.get("first_call_rss_MB"))),
    ("saved MB", lambda r: _num(r.get("saved_for_backward_MB"))),
    ("reps", lambda r: str(r.get("repeats", "-"))),
    ("notes", notes),
)


def format_table(records: list[dict[str, Any]]) -> str:
    """One aligned row per measurement."""
    rows = [[header for header, _ in COLUMNS]] + [[cell(r) for _, cell in COLUMNS] for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    left = {0, 1, len(COLUMNS) - 1}
    return "\n".join(
        "  ".join(v.ljust(w) if i in left else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    )


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def _percent(value: float | None, base: float | None) -> float | None:
    ratio = _ratio(value, base)
    return None if ratio is None else (ratio - 1.0) * 100.0


# (summary key, contender name, backend, package whose version the text names, label in the text)
PEERS = (
    ("SJ_eager", "SJ PLIF", "eager", "spikingjelly", "SJ {} eager"),
    ("SJ_compiled", "SJ PLIF", "torch.compile", "spikingjelly", "SJ {} torch.compile"),
    ("snnTorch", "snnTorch Leaky", "eager", "snntorch", "snnTorch {} Leaky"),
    ("Norse", "Norse LIF", "eager", "norse", "Norse {} LIF"),
)


def summarize(records: list[dict[str, Any]], config: Config, modes: Iterable[str]) -> dict[str, dict[str, float | None]]:
    """Per mode at ``config``: spikedyn PLIF(layer) [fused] and each peer in ms, the ratios, the option costs."""
    index = {(r["contender"], r["backend"], r["mode"]): r for r in records
             if r["T"] == config.steps and r["BN"] == config.total and "median_s" in r}  # fmt: skip

    def get(mode: str, name: str, backend: str, field: str = "median_s") -> float | None:
        row = index.get((name, backend, mode))
        return None if row is None else row[field]

    def ms(seconds: float | None) -> float | None:
        return None if seconds is None else seconds * 1e3

    summary = {}
    for mode in modes:
        fused = get(mode, "spikedyn PLIF(layer)", "fused")
        figures = {"fused_PLIF_layer_ms": ms(fused)}
        for key, name, backend, _, _ in PEERS:
            figures[f"{key}_ms"] = ms(get(mode, name, backend))
            figures[f"speedup_vs_{key}"] = _ratio(get(mode, name, backend), fused)
        figures["SJ_compile_s"] = get(mode, "SJ PLIF", "torch.compile", "first_call_overhead_s")
        for backend in ("fused", "reference"):
            layer = get(mode, "spikedyn PLIF(layer)", backend)
            figures[f"per_neuron_tau_cost_pct_{backend}"] = _percent(get(mode, "spikedyn PLIF(neuron)", backend), layer)
            figures[f"imp_cost_pct_{backend}"] = _percent(get(mode, "spikedyn PLIF(layer)+IMP", backend), layer)
        summary[mode] = figures
    return summary


def format_summary(summary: dict[str, dict[str, float | None]], config: Config, versions: dict[str, str | None]) -> str:
    """The summary block as text: per mode, spikedyn's time, each peer's time and ratio, the option costs."""
    lines = [f"Summary at {config.label()}, float32, median ms of one forward+backward (x = peer / spikedyn):"]
    for mode, f in summary.items():
        peers = [
            f"{label.format(versions.get(package) or '?')} {_num(f[f'{key}_ms'], digits=2)} ms "
            f"(x{_num(f[f'speedup_vs_{key}'], digits=2)})"
            for key, _, _, package, label in PEERS
            if f[f"{key}_ms"] is not None
        ]
        ours = f"spikedyn PLIF(layer) [fused] {_num(f['fused_PLIF_layer_ms'], digits=2)} ms"
        lines.append(f"  [{mode}] " + "; ".join([ours, *peers]))
        if f["SJ_compile_s"] is not None:
            lines.append(f"  [{mode}] SJ torch.compile's first call took {_num(f['SJ_compile_s'])} s more than its median")
        for backend in ("fused", "reference"):
            lines.append(
                f"  [{mode}] {backend}: per-neuron tau {_num(f[f'per_neuron_tau_cost_pct_{backend}'], digits=1)} %, "
                f"IMP {_num(f[f'imp_cost_pct_{backend}'], digits=1)} % vs PLIF(layer)"
            )
    return "\n".join(lines)



def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny size, 2 repeats, one subprocess per mode")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats (fewer when over --budget)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed forward+backward per measurement")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in each worker")
    parser.add_argument("--only", help="run only contenders whose 'name [backend]' contains this (case-insensitive)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="run only this mode (repeatable; default: all)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.budget <= 0:
        parser.error("--repeats and --threads must be >= 1 and --budget > 0")
    args.mode = [m for m in MODES if m in (args.mode or MODES)]
    return args


def report(
    records: list[dict[str, Any]],
    summary: dict[str, Any],
    config: Config,
    skipped: list[str],
    versions: dict[str, str | None],
) -> str:
    """The table, the summary block, skipped contenders and a warning about busy measurements."""
    lines = [format_table(records), "", format_summary(summary, config, versions)]
    lines += [f"skipped: {note}" for note in skipped]
    busy = sum(is_busy(r) for r in records)
    if busy:
        lines.append(f"warning: {busy} measurement(s) ran while other processes took over {BUSY_PERCENT:.0f}% of the CPU")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    """Run the benchmark, write the JSON, print the table and summary."""
    args = parse_args(argv)
    if args.worker is not None:
        worker_main(args.worker)
        return 0
    started = time.perf_counter()
    batches, skipped = plan(args)
    if not batches or not batches[0]:
        print(f"nothing to run (--only {args.only!r})", file=sys.stderr)
        return 1
    records = run_all(batches)
    summary_config = QUICK_SUMMARY_CONFIG if args.quick else SUMMARY_CONFIG
    summary = summarize(records, summary_config, args.mode)
    elapsed = time.perf_counter() - started
    machine = machine_info(args.threads)
    modes = {name: MODES[name].describe() for name in args.mode}
    data = {
        "machine": machine,
        "settings": {"quick": args.quick, "repeats": args.repeats, "budget_s": args.budget, "only": args.only,
                     "batch": BATCH, "dtype": "float32", "modes": modes},  # fmt: skip
        "results": records,
        "summary": {"config": asdict(summary_config), **summary},
        "skipped": skipped,
        "elapsed_s": elapsed,
    }
    write_json_atomic(args.out, data)
    print(report(records, summary, summary_config, skipped, machine["versions"]))
    print(f"wrote {args.out} in {elapsed:.0f} s")
    return 0 if all("error" not in r for r in records) else 2

if __name__ == "__main__":
    sys.exit(main())

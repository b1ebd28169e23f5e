#!/usr/bin/env python
"""Bytes saved for backward by one training step: spikedyn plain, spikedyn compact, SpikingJelly 2.0.

Usage: ``python benchmarks/memory.py [--quick] [--batch B] [--steps T] [--repeats N] [--out PATH]``;
see benchmarks/README.md. For sew_resnet18 (64x64 images repeated over T) and
plifnet_cifar10dvs (128x128 event-count frames): the bytes autograd keeps after forward+loss,
per saved tensor (memory_ledger.py), for spikedyn as is, spikedyn inside
``spikedyn.memory.compact_activations`` (and with ``recompute=False``) and the SpikingJelly twin
(sj_networks.py, same weights); whether compact gradients equal plain ones bit for bit; the
step-time ratio compact / plain, measured side by side in this process; on CUDA the peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_common as bench
import memory_report as report
from memory_ledger import as_dicts, by_module, ledger, totals

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "memory.json"
MODES = ("plain", "compact", "packed_only")  # spikedyn as is; compact_activations(); the same with recompute=False
COMPACT_OPTIONS = {"plain": None, "compact": {}, "packed_only": {"recompute": False}}


@dataclass(frozen=True)
class Workload:
    """A network, its input (frames of event counts, or one image repeated over T) and its loss."""

    model: str
    size: int
    channels: int
    frames: bool
    loss: str

    def options(self, default_size: int) -> dict[str, int]:
        """Builder options: 10 classes, and the input size where it is not the model's default."""
        options = {"input_size": self.size} if self.size != default_size else {}
        return {**options, "num_classes": 10} if self.model.startswith("sew") else options


DEFAULT_SIZES = {"sew_resnet18": 224, "plifnet_cifar10dvs": 128}
WORKLOADS = {
    "sew_resnet18": Workload("sew_resnet18", 64, 3, False, "sdt"),
    "plifnet_cifar10dvs": Workload("plifnet_cifar10dvs", 128, 2, True, "mse_rate"),
}


def make_input(work: Workload, steps: int, batch: int, device: str) -> Any:
    """[T, B, C, H, W]: event counts 0..3 per pixel, or one random image repeated over T (contiguous)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    if work.frames:
        x = torch.randint(0, 4, (steps, batch, work.channels, work.size, work.size), generator=generator).float()
    else:
        x = torch.rand(batch, work.channels, work.size, work.size, generator=generator).unsqueeze(0).repeat(steps, 1, 1, 1, 1)
    return x.to(device)


@contextlib.contextmanager
def compaction(model: Any, options: dict[str, Any] | None, inner_ledger: Any = None) -> Iterator[Any]:
    """``compact_activations(model, **options)``, or nothing for None; with ``inner_ledger``, its session's pack is recorded."""
    from spikedyn.memory import compact_activations
    from spikedyn.memory.session import CompactSession

    if options is None:
        yield None
    elif inner_ledger is None:
        with compact_activations(model, **options) as stats:
            yield stats
    else:
        session = CompactSession(**options)
        session.install(model)
        try:
            with inner_ledger(session.pack) as book:
                yield session.stats, book
        finally:
            session.close()


def saved_bytes(model: Any, x: Any, labels: Any, loss_fn: Callable, options: dict[str, Any] | None, after: Callable) -> dict[str, Any]:
    """Ledger totals, per-module breakdown and compaction stats of one forward+loss."""
    import torch

    torch.manual_seed(1)
    if options is None:
        with ledger(model, x) as book:
            loss_fn(model(x), labels)
        stats = None
    else:
        with compaction(model, options, lambda pack: ledger(model, x, pack)) as (stats, book):
            loss_fn(model(x), labels)
    rows = book.rows()
    after()
    return {"totals": totals(rows), "by_module": by_module(rows), "rows": as_dicts(rows), "stats": None if stats is None else vars(stats)}


def gradients(model: Any, x: Any, labels: Any, loss_fn: Callable, options: dict[str, Any] | None) -> dict[str, Any]:
    """Loss and parameter gradients of one step (dropout drawn from a fixed seed)."""
    import torch

    model.zero_grad(set_to_none=True)
    torch.manual_seed(2)
    with compaction(model, options):
        loss = loss_fn(model(x), labels)
    loss.backward()
    return {"loss": loss.detach().clone(), **{n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}}


def identical(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when both dicts hold the same tensors bit for bit."""
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def step_times(model: Any, x: Any, labels: Any, loss_fn: Callable, repeats: int, device: str) -> dict[str, Any]:
    """Wall and CPU seconds of full training steps for each mode, interleaved (the order flips every round).

    CPU seconds are this thread's with one torch thread (then every kernel runs on it, and time
    other processes take from the machine is not counted), else the process's.
    """
    import torch

    cpu_clock = time.thread_time if torch.get_num_threads() == 1 else time.process_time
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step(mode: str) -> None:
        optimizer.zero_grad(set_to_none=True)
        with compaction(model, COMPACT_OPTIONS[mode]):
            loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()

    times: dict[str, dict[str, list[float]]] = {m: {"wall": [], "cpu": []} for m in MODES}
    for mode in MODES:  # warm-up: numba compiles or loads its caches, the allocator grows
        step(mode)
    sync()
    for index in range(repeats):
        for mode in MODES if index % 2 == 0 else reversed(MODES):
            wall, cpu = time.perf_counter(), cpu_clock()
            step(mode)
            sync()
            times[mode]["wall"].append(time.perf_counter() - wall)
            times[mode]["cpu"].append(cpu_clock() - cpu)
    out: dict[str, Any] = {mode: {k: {"median_s": statistics.median(v), "min_s": min(v), "times_s": v} for k, v in t.items()} for mode, t in times.items()}
    for mode in MODES[1:]:
        for clock in ("wall", "cpu"):
            pairs = [c / p for c, p in zip(times[mode][clock], times["plain"][clock])]
            out[f"ratio_{mode}_{clock}"] = statistics.median(pairs)
            out[f"ratio_{mode}_{clock}_of_minima"] = min(times[mode][clock]) / min(times["plain"][clock])
    return out


def peak_cuda(model: Any, x: Any, labels: Any, loss_fn: Callable, options: dict[str, Any] | None, after: Callable) -> int:
    """Peak CUDA bytes of one training step above what is allocated before it (weights, gradients)."""
    import torch

    model.zero_grad(set_to_none=False)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    with compaction(model, options):
        loss = loss_fn(model(x), labels)
    loss.backward()
    after()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def measure(name: str, work: Workload, steps: int, batch: int, repeats: int, device: str) -> dict[str, Any]:
    """Everything the report says about one network."""
    import torch
    from sj_networks import build_sj_network
    from spikingjelly.activation_based import functional

    from spikedyn.losses import get_loss
    from spikedyn.models import build_model

    torch.manual_seed(0)
    options = work.options(DEFAULT_SIZES[name])
    model = build_model(name, **options).to(device)
    sj = build_sj_network(name, **options).to(device)
    x = make_input(work, steps, batch, device)
    labels = (torch.arange(batch) % 10).to(device)
    loss_fn = get_loss(work.loss)
    nothing, reset_sj = (lambda: None), (lambda: functional.reset_net(sj))
    result: dict[str, Any] = {"input": list(x.shape), "input_kind": "event counts 0..3" if work.frames else "image repeated", "loss": work.loss}
    runs = {mode: saved_bytes(model, x, labels, loss_fn, COMPACT_OPTIONS[mode], nothing) for mode in MODES}
    runs["spikingjelly"] = saved_bytes(sj, x, labels, loss_fn, None, reset_sj)
    held = {run: data["totals"].get("activation", 0) for run, data in runs.items()}
    result["saved_bytes"] = held
    result["ratios"] = {
        "sj_over_compact": held["spikingjelly"] / held["compact"],
        "sj_over_packed_only": held["spikingjelly"] / held["packed_only"],
        "sj_over_plain": held["spikingjelly"] / held["plain"],
        "plain_over_compact": held["plain"] / held["compact"],
    }
    result["compaction_stats"] = runs["compact"]["stats"]
    result["breakdown"] = {run: data["by_module"] for run, data in runs.items()}
    result["saved_tensors"] = {run: data["rows"] for run, data in runs.items()}
    plain, compact = gradients(model, x, labels, loss_fn, None), gradients(model, x, labels, loss_fn, {})
    result["gradients_identical"] = identical(plain, compact)
    result["step_time"] = step_times(model, x, labels, loss_fn, repeats, device)
    if device == "cuda":
        result["peak_cuda_bytes"] = {mode: peak_cuda(model, x, labels, loss_fn, COMPACT_OPTIONS[mode], nothing) for mode in MODES}
        result["peak_cuda_bytes"]["spikingjelly"] = peak_cuda(sj, x, labels, loss_fn, None, reset_sj)
    return result


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="time steps T (default 4)")
    parser.add_argument("--batch", type=int, default=2, help="batch size B (default 2; saved bytes grow linearly with T and B)")
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per mode, interleaved (default 7)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--network", action="append", choices=sorted(WORKLOADS), help="only this network (repeatable)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="cuda when available with auto")
    parser.add_argument("--allocator", choices=("tuned", "default"), default="tuned", help="glibc tuned as the spikedyn command does (default)")
    parser.add_argument("--quick", action="store_true", help="T=2, B=1, 32x32 inputs, 2 repeats: a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.repeats = 2, 1, 2
    if min(args.steps, args.batch, args.repeats, args.threads) < 1:
        parser.error("--steps, --batch, --repeats and --threads must be >= 1")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Measure every network, print the tables, write the JSON."""
    args = parse_args(argv)
    tuned = args.allocator == "tuned" and bench.tune_allocator()
    import torch

    torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    started = time.perf_counter()
    networks = {}
    for name in args.network or sorted(WORKLOADS):
        work = WORKLOADS[name]
        if args.quick:
            work = Workload(work.model, 32, work.channels, work.frames, work.loss)
        networks[name] = measure(name, work, args.steps, args.batch, args.repeats, device)
        print(report.network_text(name, networks[name]), flush=True)
    settings = {"T": args.steps, "B": args.batch, "repeats": args.repeats, "device": device, "allocator_tuned": tuned, "quick": args.quick}
    data = {"machine": bench.machine_info(args.threads), "settings": settings, "networks": networks, "summary": report.summary(networks)}
    bench.write_json_atomic(args.out, data)
    print(report.summary_text(data["summary"]))
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0 if all(n["gradients_identical"] for n in networks.values()) else 2


if __name__ == "__main__":
    sys.exit(main())

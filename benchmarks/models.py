#!/usr/bin/env python
"""One training step of plifnet_mnist, spikedyn against the same network in SpikingJelly 2.0.

Usage: ``python benchmarks/models.py [--quick] [--steps T] [--batch B] [--out PATH]``; see
benchmarks/README.md. A step is: zero the gradients, forward [T, B, 1, 28, 28], the PLIF
paper's rate-MSE loss, backward, Adam step (and SpikingJelly's reset_net). Every contender
and allocator mode runs in a fresh subprocess of this script (``--worker``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import bench_common as bench

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the SpikingJelly network lives with the oracle test
DEFAULT_OUT = HERE / "results" / "models.json"
ALLOCATORS = ("default", "tuned")
CONTENDERS = ("spikedyn [fused]", "spikedyn [fused] static encoder", "spikedyn [reference]", "SJ [torch]")
WORKER_TIMEOUT_S = 600
MIB = 1 << 20


def build(contender: str, steps: int, batch: int) -> tuple[Any, Any, Callable[[], None]]:
    """(model, input, after-step hook) for one contender; the input is one fixed batch."""
    import torch
    from functools import partial

    from spikedyn.models import build_model
    from spikedyn.neurons import PLIF

    torch.manual_seed(0)
    image = torch.rand(batch, 1, 28, 28)
    frames = image.unsqueeze(0).repeat(steps, 1, 1, 1, 1)
    if contender == "SJ [torch]":
        from spikingjelly.activation_based import functional

        from tests.models.spikingjelly_plifnet import spikingjelly_plifnet_mnist

        model = spikingjelly_plifnet_mnist()
        return model, frames, lambda: functional.reset_net(model)
    if contender == "spikedyn [reference]":
        return build_model("plifnet_mnist", neuron=partial(PLIF, tau=2.0, backend="reference")), frames, lambda: None
    if contender == "spikedyn [fused] static encoder":
        return build_model("plifnet_mnist", static_encoder=True, time_steps=steps), image, lambda: None
    return build_model("plifnet_mnist"), frames, lambda: None


def measure(contender: str, steps: int, batch: int, repeats: int, threads: int) -> dict[str, Any]:
    """Median and best seconds of a training step, and the peak RSS growth during the steps."""
    import torch

    from spikedyn.losses import get_loss

    torch.set_num_threads(threads)
    model, x, after_step = build(contender, steps, batch)
    labels = torch.arange(batch) % 10
    loss_fn = get_loss("mse_rate")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), labels).backward()
        optimizer.step()
        after_step()

    for _ in range(2):
        step()
    neuron_s = neuron_seconds(step) if contender.startswith("spikedyn [fused]") else None
    bench.release_free_memory()
    peak_reset = bench.reset_peak_rss()
    base_rss = bench.max_rss_bytes()
    before = bench.cpu_counters()
    times = [bench.timed(step) for _ in range(repeats)]
    after = bench.cpu_counters()
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "repeats": repeats,
        "peak_rss_growth_MB": (bench.max_rss_bytes() - base_rss) / MIB if peak_reset else None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "neuron_s": neuron_s,
        "other_cpu_pct": bench.other_cpu_percent(before, after),
    }


def neuron_seconds(step: Callable[[], None]) -> float:
    """Seconds of one step spent in spikedyn's neuron operators (and their autograd nodes), from torch.profiler.

    Self CPU time of the events named ``spikedyn``: the neurons' share of the step, so the table can
    say how much faster than SpikingJelly the step could get with neurons that cost nothing.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    return sum(e.self_cpu_time_total for e in prof.key_averages() if "spikedyn" in e.key) * 1e-6


def worker_main(result_path: Path) -> None:
    """Measure the job read as JSON from stdin and write the result."""
    job = json.load(sys.stdin)
    tuned = job.pop("allocator") == "tuned" and bench.tune_allocator()
    try:
        result = measure(**job)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
        result = {"error": f"{type(exc).__name__}: {exc}"}
    bench.write_json_atomic(result_path, {**result, "allocator_applied": tuned})


def run_worker(job: dict[str, Any]) -> dict[str, Any]:
    """One job in a fresh subprocess of this script."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(result_path)]
        try:
            proc = subprocess.run(cmd, input=json.dumps(job), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
            problem = f"worker exited with {proc.returncode}: {proc.stderr.strip()[-500:]}" if proc.returncode else "no result"
        except subprocess.TimeoutExpired:
            problem = f"worker timed out after {WORKER_TIMEOUT_S} s"
        return json.loads(result_path.read_text()) if result_path.exists() else {"error": problem}


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per contender and allocator mode, with the speed-up over SpikingJelly."""
    sj = {r["allocator"]: r.get("median_s") for r in rows if r["contender"] == "SJ [torch]"}
    lines = [f"{'contender':34} {'allocator':9} {'median ms':>10} {'best ms':>8} {'peak MB':>8} {'vs SJ':>6} {'neuron ms':>9} {'ceiling':>7}  note"]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['contender']:34} {r['allocator']:9} {'-':>10} {'-':>8} {'-':>8} {'-':>6} {'-':>9} {'-':>7}  {r['error']}")
            continue
        ref = sj.get(r["allocator"])
        ratio = f"x{ref / r['median_s']:.2f}" if ref else "-"
        peak = f"{r['peak_rss_growth_MB']:.0f}" if r["peak_rss_growth_MB"] is not None else "-"
        neuron = r.get("neuron_s")
        rest = r["median_s"] - neuron if neuron is not None else None
        ceiling = f"x{ref / rest:.2f}" if ref and rest and rest > 0 else "-"
        neuron_ms = f"{neuron * 1e3:.1f}" if neuron is not None else "-"
        busy = r["other_cpu_pct"]
        note = f"busy: others took {busy:.0f}% CPU" if busy is not None and busy > 15 else ""
        lines.append(f"{r['contender']:34} {r['allocator']:9} {r['median_s'] * 1e3:10.1f} {r['min_s'] * 1e3:8.1f} {peak:>8} {ratio:>6} "
                     f"{neuron_ms:>9} {ceiling:>7}  {note}")  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="time steps T (default 8)")
    parser.add_argument("--batch", type=int, default=16, help="batch size B (default 16, the PLIF paper's)")
    parser.add_argument("--repeats", type=int, default=10, help="timed training steps per contender")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in each worker")
    parser.add_argument("--quick", action="store_true", help="T=2, B=2, 2 repeats: a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.batch, args.repeats = 2, 2, 2
    if min(args.steps, args.batch, args.repeats, args.threads) < 1:
        parser.error("--steps, --batch, --repeats and --threads must be >= 1")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run every contender under both allocator modes, print the table, write the JSON."""
    args = parse_args(argv)
    if args.worker is not None:
        worker_main(args.worker)
        return 0
    started = time.perf_counter()
    rows = []
    for allocator in ALLOCATORS:
        for contender in CONTENDERS:
            job = dict(contender=contender, steps=args.steps, batch=args.batch, repeats=args.repeats, threads=args.threads, allocator=allocator)
            rows.append({"contender": contender, "allocator": allocator, **run_worker(job)})
            print(format_table(rows).splitlines()[-1], flush=True)
    table = format_table(rows)
    data = {"machine": bench.machine_info(args.threads), "T": args.steps, "B": args.batch, "results": rows, "table": table}
    bench.write_json_atomic(args.out, data)
    print(f"\nplifnet_mnist training step, T={args.steps}, B={args.batch}, {args.threads} threads\n{table}")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 2 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

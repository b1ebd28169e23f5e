#!/usr/bin/env python
"""Forward+backward time and memory of spikedyn's neurons against SpikingJelly, snnTorch and Norse.

Usage: ``python benchmarks/neuron.py [--quick | --headline] [--only SUBSTRING[,SUBSTRING...]] [--mode MODE] [--out PATH]``, or
``python benchmarks/neuron.py --sweep`` for the shape sweep (:mod:`neuron_sweep`); see
benchmarks/README.md for what is measured, in which modes (best case, user-first), and what each
column means. Every measurement runs in a fresh subprocess of this script (``--worker``), so heap
state and peak RSS of one contender never leak into the next. The pieces: :mod:`neuron_contenders`
(sizes, modes, contenders), :mod:`neuron_measure` (the worker), :mod:`neuron_report` (table, summary).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_common import machine_info, write_json_atomic
from neuron_alternating import DESCRIPTION as ALTERNATING
from neuron_contenders import (  # noqa: F401 - snntorch_build is gpu_neuron_contenders' import
    BATCH,
    CONTENDERS,
    FULL_CONFIGS,
    MODES,
    QUICK_CONFIGS,
    QUICK_SUMMARY_CONFIG,
    SUMMARY_CONFIG,
    Config,
    Contender,
    snntorch_build,
)
from neuron_measure import Spec, worker_main
from neuron_report import is_busy, report, summarize
from neuron_sweep import DEFAULT_OUT as SWEEP_OUT
from neuron_sweep import run_sweep

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "neuron.json"
WORKER_TIMEOUT_S = 300

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
        if only and not any(part.strip().lower() in contender.key.lower() for part in only.split(",")):
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
    configs = QUICK_CONFIGS if args.quick else (SUMMARY_CONFIG,) if args.headline else FULL_CONFIGS
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


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny size, 2 repeats, one subprocess per mode")
    parser.add_argument("--out", type=Path, help=f"JSON output path (default {DEFAULT_OUT.name}, or {SWEEP_OUT.name} with --sweep)")
    parser.add_argument("--headline", action="store_true", help=f"only the summary's size ({SUMMARY_CONFIG.label()}): the README's figures")
    parser.add_argument("--repeats", type=int, default=30, help="timed repeats (fewer when over --budget)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed forward+backward per measurement")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads in each worker")
    parser.add_argument("--only", help="run only contenders whose 'name [backend]' contains this, or one of these comma-separated (case-insensitive)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="run only this mode (repeatable; default: all)")
    parser.add_argument("--sweep", action="store_true", help="the shape sweep instead: fused vs reference vs SJ on 2-D to 5-D shapes")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.budget <= 0:
        parser.error("--repeats and --threads must be >= 1 and --budget > 0")
    args.mode = [m for m in MODES if m in (args.mode or MODES)]
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run the benchmark, write the JSON, print the table and summary."""
    args = parse_args(argv)
    if args.worker is not None:
        worker_main(args.worker)
        return 0
    if args.sweep:
        return run_sweep(args.out, args.quick, args.threads, args.budget)
    args.out = args.out or DEFAULT_OUT
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
        "settings": {"quick": args.quick, "headline": args.headline, "repeats": args.repeats, "budget_s": args.budget, "only": args.only,
                     "batch": BATCH, "dtype": "float32", "modes": modes, "alternating": ALTERNATING},  # fmt: skip
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

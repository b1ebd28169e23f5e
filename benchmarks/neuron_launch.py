#!/usr/bin/env python
"""How the fused CPU kernel should spread its work over threads: measured alone and alternating with torch.

Usage: ``python benchmarks/neuron_launch.py [--quick] [--rounds R] [--threads N] [--out PATH]``; see
benchmarks/README.md. One fresh process per numba threading layer (``workqueue``, ``omp``): in it,
spikedyn PLIF(layer) [fused] runs under each way of launching its work items and SpikingJelly 2.0's
eager ParametricLIFNode runs beside them, taking turns round by round, each timed alone (steps back
to back) and alternating (a torch matmul before each step, timed apart: a way whose threads spin
on after its step slows that matmul instead of itself). The ways:

- ``openmp``, ``threads``, ``serial``: spikedyn's launchers (numba_parallel): torch's own OpenMP
  threads through GOMP_parallel, a Python thread pool, the calling thread alone;
- ``prange-<layer>``: the same workers under numba's ``parallel=True`` prange on that layer, numba's
  own pool (``omp`` is the system's libgomp, another runtime than torch's).

``torch.jit._fork`` is not among them: in eager mode it runs the function at once on the calling
thread (checked in this process; the result is in the JSON), so it cannot spread work at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench_common import cpu_counters, machine_info, other_cpu_percent, timed, write_json_atomic
from neuron_alternating import DESCRIPTION as ALTERNATING
from neuron_alternating import Alternator

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "neuron_launch.json"
LAYERS = ("workqueue", "omp")
WORKER_TIMEOUT_S = 900


_runners: dict[Any, Callable[[int, int], None]] = {}


def prange_launch(layer: str, threads: int) -> Callable[[], None]:
    """Route the kernel's jobs through numba prange on ``layer``; returns a function that undoes it."""
    import numba

    from spikedyn.neurons.backends import numba_kernel, numba_loops, numba_parallel

    if not _runners:
        numba.config.THREADING_LAYER = layer
        numba.set_num_threads(threads)

        @numba.njit(parallel=True)
        def forward_prange(address, workers):
            for _ in numba.prange(workers):
                numba_loops.run_forward(address)

        @numba.njit(parallel=True)
        def backward_prange(address, workers):
            for _ in numba.prange(workers):
                numba_loops.run_backward(address)

        _runners.update({numba_kernel.FORWARD: forward_prange, numba_kernel.BACKWARD: backward_prange})

    def run_job(kernel: Any, job: Any, workers: int) -> None:
        _runners[kernel](numba_parallel.prepare_job(job, workers), workers)

    saved = numba_kernel.run_job, numba_kernel.team_size
    numba_kernel.run_job, numba_kernel.team_size = run_job, lambda wanted: 1 if wanted <= 1 else threads

    def undo() -> None:
        numba_kernel.run_job, numba_kernel.team_size = saved

    return undo


def fork_runs_inline() -> bool:
    """True when torch.jit._fork ran its function on the calling thread (eager mode)."""
    import torch

    return torch.jit._wait(torch.jit._fork(threading.get_ident)) == threading.get_ident()


def measure_layer(layer: str, threads: int, rounds: int, steps: int, total: int) -> dict[str, Any]:
    """Every way of launching, and SJ eager, alone and alternating, taking turns; in this process."""
    import torch

    torch.set_num_threads(threads)
    from spikingjelly.activation_based import functional, neuron, surrogate

    from spikedyn.neurons import PLIF
    from spikedyn.neurons.backends import numba_parallel

    torch.manual_seed(0)
    batch = 64
    x = (torch.randn(steps, batch, total // batch) * 1.5 + 0.5).requires_grad_()
    g = torch.randn(x.shape)
    ours = PLIF(2.0, shape=(total // batch,), backend="fused")
    sj = neuron.ParametricLIFNode(init_tau=2.0, detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan())
    launch = {name: (lambda name=name: numba_parallel.use_launcher(name)) for name in numba_parallel.available_launchers()}

    def step(module: Any) -> None:
        x.grad = None
        module.zero_grad(set_to_none=True)
        if module is sj:
            functional.reset_net(sj)
        module(x).backward(g)

    def run(name: str, setting: str, alternate: Alternator, times: dict) -> None:
        module = sj if name == "SJ eager" else ours
        undo = prange_launch(layer, threads) if name.startswith("prange") else None
        try:
            with launch[name]() if name in launch else contextlib.nullcontext():
                step(module)  # untimed: the previous way's threads settle
                for _ in range(3):
                    if setting == "alternating":  # the matmul right after this way's previous step
                        times[(name, "matmul")].append(timed(alternate))
                    times[(name, setting)].append(timed(lambda: step(module)))
        finally:
            if undo:
                undo()

    names = [*launch, f"prange-{layer}", "SJ eager"]
    times: dict[tuple[str, str], list[float]] = {(n, s): [] for n in names for s in ("alone", "alternating", "matmul")}
    alternate = Alternator()
    for name in names:  # compile everything before timing
        run(name, "alone", alternate, {k: [] for k in times})
    before = cpu_counters()
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            for setting in ("alone", "alternating"):
                run(name, setting, alternate, times)
    rows = {f"{n} | {s}": {"median_s": statistics.median(t), "min_s": min(t), "times_s": t} for (n, s), t in times.items()}
    return {"layer": layer, "rows": rows, "fork_runs_inline": fork_runs_inline(),
            "other_cpu_pct": other_cpu_percent(before, cpu_counters())}  # fmt: skip


def run_worker(job: dict[str, Any]) -> dict[str, Any]:
    """One layer in a fresh subprocess of this script."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)]
        try:
            proc = subprocess.run(cmd, input=json.dumps(job), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
            problem = f"worker exited with {proc.returncode}: {proc.stderr.strip()[-800:]}" if proc.returncode else "no result"
        except subprocess.TimeoutExpired:
            problem = f"worker timed out after {WORKER_TIMEOUT_S} s"
        return json.loads(path.read_text()) if path.exists() else {"layer": job["layer"], "error": problem}


def format_layer(result: dict[str, Any]) -> str:
    """A table per process: each way alone and alternating, in ms and as SJ eager / it in the same setting."""
    if "error" in result:
        return f"[numba layer {result['layer']}] ERROR {result['error']}"
    rows = result["rows"]
    sj = {s: rows[f"SJ eager | {s}"]["median_s"] for s in ("alone", "alternating")}
    head = f"{'way':16} {'alone ms':>9} {'min':>7} {'xSJ':>6}   {'altern. ms':>10} {'min':>7} {'xSJ':>6}   {'matmul ms':>9}"
    lines = [f"[numba layer {result['layer']}]  {head}"]
    for name in dict.fromkeys(key.split(" | ")[0] for key in rows):
        a, b, mm = rows[f"{name} | alone"], rows[f"{name} | alternating"], rows[f"{name} | matmul"]
        lines.append(f"{'':22}{name:16} {a['median_s'] * 1e3:9.2f} {a['min_s'] * 1e3:7.2f} {sj['alone'] / a['median_s']:6.2f}   "
                     f"{b['median_s'] * 1e3:10.2f} {b['min_s'] * 1e3:7.2f} {sj['alternating'] / b['median_s']:6.2f}   "
                     f"{mm['median_s'] * 1e3:9.2f}")  # fmt: skip
    busy = result.get("other_cpu_pct")
    lines.append(f"{'':22}torch.jit._fork runs inline: {result['fork_runs_inline']}; other processes took {busy or 0:.0f}% CPU")
    return "\n".join(lines)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 3 timed steps per way and setting (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="T=4, B*N=2**16, 2 rounds: a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.threads < 1:
        parser.error("--rounds and --threads must be >= 1")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run one process per numba layer, print the tables, write the JSON."""
    args = parse_args(argv)
    if args.worker is not None:
        job = json.load(sys.stdin)
        write_json_atomic(args.worker, measure_layer(**job))
        return 0
    started = time.perf_counter()
    steps, total, rounds = (4, 1 << 16, 2) if args.quick else (16, 1 << 20, args.rounds)
    results = []
    for layer in LAYERS:
        results.append(run_worker(dict(layer=layer, threads=args.threads, rounds=rounds, steps=steps, total=total)))
        print(format_layer(results[-1]), flush=True)
    data = {"machine": machine_info(args.threads), "T": steps, "BN": total, "alternating": ALTERNATING, "results": results,
            "elapsed_s": time.perf_counter() - started}  # fmt: skip
    write_json_atomic(args.out, data)
    print(f"T={steps}, B*N={total}, PLIF(layer) float32 forward+backward; xSJ = SJ eager / it, same setting and process;"
          " matmul ms: the alternating setting's matmul (outside the step's time), right after this way's step")
    print(f"wrote {args.out} in {data['elapsed_s']:.0f} s")
    return 2 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

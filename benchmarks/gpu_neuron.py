#!/usr/bin/env python
"""Forward+backward time, bandwidth and memory of spiking-neuron layers on a GPU: spikedyn vs SJ 2.0, Norse, snnTorch.

Usage: ``python benchmarks/gpu_neuron.py [--budget-s S] [--out PATH] [--device cuda|cpu] [--smoke]``;
see benchmarks/GPU.md. Contenders run in worker subprocesses grouped by the environment they
need (SpikingJelly picks its implementation from environment variables read at import); each
group gets a share of the time budget, and whatever was measured when time runs out is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import machine_info, write_json_atomic
from gpu_bandwidth import BYTE_MODEL
from gpu_neuron_contenders import CONTENDERS, GROUPS, Contender
from gpu_neuron_report import derive, report, summarize
from gpu_timing import Deadline
from gpu_worker import breaks_cuda_context, run_jobs, serve

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "gpu_neuron.json"
BATCH = 64
PACKAGES = ("torch", "triton", "numpy", "spikedyn", "spikingjelly", "snntorch", "norse", "loguru")
COPY_BYTES = {"cuda": 1 << 31, "cpu": 1 << 24}


@dataclass(frozen=True)
class Case:
    """T steps, B*N = total (B = BATCH, shape (N,)), and the dtype of input and gradient."""

    steps: int
    total: int
    dtype: str

    @property
    def neurons(self) -> int:
        """N = total / BATCH."""
        return self.total // BATCH


FULL = {"steps": (4, 16, 32), "totals": (1 << 16, 1 << 20, 1 << 22)}
SMOKE = {"steps": (4,), "totals": (1 << 12,)}
CHECK, SMOKE_CHECK = Case(16, 1 << 22, "float32"), Case(4, 1 << 12, "float32")


def all_cases(smoke: bool) -> list[Case]:
    """Every case, the checklist's case first (then its bfloat16 twin) so that a short budget still measures them."""
    sizes = SMOKE if smoke else FULL
    check = SMOKE_CHECK if smoke else CHECK
    first = [check, Case(check.steps, check.total, "bfloat16")]
    others = [Case(t, n, d) for d in ("float32", "bfloat16") for t in sizes["steps"] for n in sizes["totals"]]
    return first + [c for c in others if c not in first]


# --------------------------------------------------------------------------- worker side


def build_step(contender: Contender, case: Case, mode: str, device: Any) -> tuple[Any, Callable[[], Any], Callable[[], Any] | None, Any]:
    """(module, step, prepare, x): one training step of the neuron alone.

    mode 'grad': fixed input x and a fixed random loss gradient g fed as spikes.backward(g), so the
    time is the neuron's own. mode 'user-first': a fresh input per step (made by ``prepare``,
    untimed) and spikes.sum().backward(), as a user's first loop would write it.
    """
    import torch

    torch.manual_seed(0)
    module, forward = contender.build(case.neurons, device)
    dtype = getattr(torch, case.dtype)
    shape = (case.steps, BATCH, case.neurons)

    def fresh_input() -> torch.Tensor:
        return (torch.randn(shape, device=device) * 1.5 + 0.5).to(dtype).requires_grad_()

    if mode == "grad":
        x, g = fresh_input(), torch.randn(shape, device=device).to(dtype)

        def step() -> None:
            x.grad = None
            module.zero_grad(set_to_none=True)
            forward(x).backward(g)

        return module, step, None, (forward, x)
    holder = {"x": fresh_input()}

    def prepare() -> None:
        module.zero_grad(set_to_none=True)
        holder["x"] = fresh_input()

    return module, lambda: forward(holder["x"]).sum().backward(), prepare, (forward, holder["x"])


def measure(job: dict[str, Any], device: Any, rep_budget_s: float, max_reps: int) -> dict[str, Any]:
    """Time, forward time, peak memory and (if asked) the launched kernels of one job."""
    import torch

    from gpu_bandwidth import neuron_traffic_bytes
    from gpu_timing import adaptive_times, launched_kernels, peak_memory_bytes, summarize_times, time_calls, wall_seconds

    contender = next(c for c in CONTENDERS if c.key == job["key"])
    case = Case(job["steps"], job["total"], job["dtype"])
    module, step, prepare, (forward, x) = build_step(contender, case, job["mode"], device)
    first_s = wall_seconds(step, device)  # includes Triton / Inductor compilation
    spike_dtype = str(forward(x).dtype).removeprefix("torch.")
    for _ in range(2):
        if prepare is not None:
            prepare()
        step()
    result: dict[str, Any] = {"first_call_s": first_s, "spike_dtype": spike_dtype}
    result.update(summarize_times(adaptive_times(step, device, rep_budget_s, min(5, max_reps), max_reps, prepare)))
    if job["mode"] == "grad":
        forwards = time_calls(lambda: forward(x), device, max(1, min(result["repeats"], 20)))
        result["forward_median_s"] = sorted(forwards)[len(forwards) // 2]
    if prepare is not None:
        prepare()
    peak = peak_memory_bytes(step, device)
    result["peak_memory_MiB"] = None if peak is None else peak / 2**20
    if job.get("profile"):
        result["kernels"] = launched_kernels(step, device)
    parameter_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
    element_size = torch.empty((), dtype=getattr(torch, case.dtype)).element_size()
    result["model_bytes"] = neuron_traffic_bytes(case.steps, BATCH, case.neurons, element_size, parameter_bytes)
    return result


def device_facts(device: Any, copy_bytes: int | None) -> dict[str, Any]:
    """The device's name and capability, and a device-to-device copy's bandwidth when asked."""
    import torch

    from gpu_bandwidth import copy_bandwidth, hbm_peak_bytes_per_s

    facts: dict[str, Any] = {"kind": "device", "device": str(device), "torch": torch.__version__, "cuda": torch.version.cuda}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update(name=props.name, capability=f"{props.major}.{props.minor}", multiprocessors=props.multi_processor_count,
                     memory_GiB=props.total_memory / 2**30, hbm_peak_bytes_per_s=hbm_peak_bytes_per_s(props.name))  # fmt: skip
    else:
        facts.update(name="cpu", hbm_peak_bytes_per_s=None)
    if copy_bytes:
        facts["copy"] = copy_bandwidth(device, copy_bytes)
    return facts


def measure_all(payload: dict[str, Any], save: Callable[[list[dict[str, Any]]], None]) -> bool:
    """Worker: the device facts, then every job until the group's deadline; saves after each.

    Returns True when it stopped early because a CUDA error broke this process's context.
    """
    import torch

    logs = None
    if payload["group"].startswith("sj"):
        from gpu_sj import LogCapture, selected_implementation

        logs = LogCapture()
    device = torch.device(payload["device"])
    deadline = Deadline(payload["deadline"])
    try:
        results: list[dict[str, Any]] = [device_facts(device, payload.get("copy_bytes"))]
    except Exception as exc:  # noqa: BLE001 - the measurements can go on without the device facts
        results = [{"kind": "device", "error": f"{type(exc).__name__}: {exc}"}]
    save(results)
    last_wall: dict[str, float] = {}  # per contender: the wall time of its last measurement
    for job in payload["jobs"]:
        mark = len(logs.lines) if logs else 0
        started = time.perf_counter()
        if deadline.left() < max(1.0, 2 * last_wall.get(job["key"], 0.0)):
            row: dict[str, Any] = {"skipped": "the group's share of --budget-s was spent"}
        else:
            try:
                row = measure(job, device, payload["rep_budget_s"], payload["max_reps"])
            except Exception as exc:  # noqa: BLE001 - a failing contender is a row, never a crash
                row = {"error": f"{type(exc).__name__}: {exc}"}
                if breaks_cuda_context(exc):
                    results.append({**job, **row})
                    save(results)
                    return True
            last_wall[job["key"]] = time.perf_counter() - started
            if device.type == "cuda":
                torch.cuda.empty_cache()
        if logs and logs.since(mark):
            row["sj_log"] = logs.since(mark)
            row["sj_selected"] = selected_implementation(row["sj_log"], "sj_plif")
        results.append({**job, **row, "wall_s": time.perf_counter() - started})
        outcome = row.get("error") or row.get("skipped") or f"{row['median_s'] * 1e3:.3f} ms"
        where = f"T={job['steps']} B*N=2**{job['total'].bit_length() - 1} {job['dtype']} {job['mode']}"
        print(f"  {payload['group']}: {job['key']} {where}: {outcome}", file=sys.stderr, flush=True)
        save(results)
    return False


# --------------------------------------------------------------------------- driver side


def runnable(contender: Contender, args: argparse.Namespace) -> str | None:
    """Why ``contender`` is left out (None when it runs)."""
    if args.only and args.only.lower() not in contender.key.lower():
        return "not selected by --only"
    if not contender.available():
        return f"package {contender.package!r} is not installed"
    if contender.cuda_only and args.device != "cuda" and not args.run_cuda_only:
        return "a CUDA implementation: skipped on this device"
    return None


def plan(args: argparse.Namespace) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """{group: jobs} in run order, and notes on the contenders left out."""
    cases = all_cases(args.smoke)
    check = cases[0]
    jobs: dict[str, list[dict[str, Any]]] = {g.name: [] for g in GROUPS}
    skipped = []
    profiled: set[tuple[str, str]] = set()
    for contender in CONTENDERS:
        reason = runnable(contender, args)
        if reason:
            skipped.append(f"{contender.key}: {reason}")
            continue
        for case in cases:
            if case.dtype not in contender.dtypes or (contender.steps and case.steps not in contender.steps and case != check):
                continue
            modes = ["grad"] + (["user-first"] if contender.user_first and case == check else [])
            for mode in modes:
                profile = mode == "grad" and (contender.key, case.dtype) not in profiled
                profiled.add((contender.key, case.dtype))
                job = dict(key=contender.key, contender=contender.name, backend=contender.backend, group=contender.group,
                           steps=case.steps, total=case.total, B=BATCH, N=case.neurons, dtype=case.dtype, mode=mode, profile=profile)  # fmt: skip
                jobs[contender.group].append(job)
    order = {c: i for i, c in enumerate(cases)}
    for group_jobs in jobs.values():
        group_jobs.sort(key=lambda j: (order[Case(j["steps"], j["total"], j["dtype"])], j["mode"] != "grad"))
    return {g: j for g, j in jobs.items() if j}, skipped


def wait_for_native(status: Path | None, limit_s: float) -> dict[str, Any] | None:
    """Wait (at most ``limit_s``) for gpu_sj_native.py's status file; its content, or None if none came."""
    if status is None:
        return None
    started = time.time()
    while not status.exists() and time.time() - started < limit_s:
        time.sleep(1.0)
    if not status.exists():
        return {"ok": False, "error": f"no build status after waiting {limit_s:.0f} s"}
    return {**json.loads(status.read_text()), "waited_s": time.time() - started}


def run_groups(args: argparse.Namespace, jobs: dict[str, list[dict[str, Any]]], write: Callable[[list, list, dict], None]) -> tuple[list, list, dict]:
    """Run each group in its own worker with its share of the remaining budget; write after each group."""
    deadline = Deadline.after(args.budget_s)
    groups = [g for g in GROUPS if g.name in jobs]
    rows: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    native: dict[str, Any] = {}
    for index, group in enumerate(groups):
        if group.needs_native and "plif" not in native and args.native_status:
            native["plif"] = wait_for_native(args.native_status, max(0.0, min(args.native_wait_s, deadline.left() / 3)))
        share = group.share / sum(g.share for g in groups[index:])
        budget = max(0.0, deadline.left()) * share
        print(f"[{group.name}] {len(jobs[group.name])} measurements, {budget:.0f} s", file=sys.stderr, flush=True)
        payload = dict(group=group.name, device=args.device, jobs=jobs[group.name], rep_budget_s=args.rep_budget_s,
                       max_reps=args.max_reps, copy_bytes=COPY_BYTES.get(args.device) if not devices else None)  # fmt: skip
        results = run_jobs(Path(__file__).resolve(), payload, group.env, budget)
        devices += [r for r in results if r.get("kind") == "device" and "error" not in r]
        rows += [r for r in results if not r.get("kind")]
        write(rows, devices, native)
    return rows, devices, native


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, help="wall-clock seconds for all measurements (default 200, 900 with --smoke)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="where the neurons run (default cuda)")
    parser.add_argument("--smoke", action="store_true", help="T=4, B*N=2**12 only, 2 repeats: a check that everything runs")
    parser.add_argument("--rep-budget-s", type=float, default=0.05, help="seconds of timed steps per measurement (5 to --max-reps)")
    parser.add_argument("--max-reps", type=int, default=50, help="most timed steps per measurement")
    parser.add_argument("--only", help="run only contenders whose 'name [backend]' contains this (case-insensitive)")
    parser.add_argument("--native-status", type=Path, help="gpu_sj_native.py's status file for plif: wait for it before SJ's cuda groups")
    parser.add_argument("--native-wait-s", type=float, default=120.0, help="longest wait for --native-status")
    parser.add_argument("--run-cuda-only", action="store_true", help="also run CUDA-only contenders on the CPU (to test this script)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rep_budget_s, args.max_reps = 0.0, 2
    if args.budget_s is None:
        args.budget_s = 900.0 if args.smoke else 200.0
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run every group, write the JSON (after each group and at the end), print the tables and the checklist."""
    args = parse_args(argv)
    if args.worker is not None:
        return serve(args.worker, measure_all)
    started = time.perf_counter()
    jobs, skipped = plan(args)
    check = all_cases(args.smoke)[0]
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "worker"}

    def write(rows: list, devices: list, native: dict) -> dict[str, Any]:
        derived = derive(rows, devices[0] if devices else {})
        try:
            summary = summarize(derived, check)
        except Exception as exc:  # noqa: BLE001 - the measurements are written even if the summary fails
            summary = {"error": f"{type(exc).__name__}: {exc}"}
        data = {"machine": machine_info(1, PACKAGES), "device": devices[0] if devices else None, "settings": settings,
                "byte_model": BYTE_MODEL, "batch": BATCH, "sj_native_build": native, "results": derived,
                "summary": summary, "skipped": skipped, "elapsed_s": time.perf_counter() - started}  # fmt: skip
        write_json_atomic(args.out, data)
        return data

    rows, devices, native = run_groups(args, jobs, write)
    data = write(rows, devices, native)
    try:
        print(report(data, check))
    except Exception:  # noqa: BLE001 - the JSON is already written
        traceback.print_exc()
    print(f"wrote {args.out} in {data['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

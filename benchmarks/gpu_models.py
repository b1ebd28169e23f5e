#!/usr/bin/env python
"""One training step of plifnet_cifar10dvs and sew_resnet18 on a GPU: spikedyn against the same networks in SpikingJelly 2.0.

Usage: ``python benchmarks/gpu_models.py [--budget-s S] [--out PATH] [--device cuda|cpu] [--smoke]``;
see benchmarks/GPU.md. A step is: zero the gradients, forward, the SDT loss (cross-entropy of
the output averaged over T), backward, SGD(momentum 0.9) step, and SJ's reset_net. Each
contender group runs in its own worker process with its own share of the time budget.
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
from gpu_sj import implementation_env, native_built, selected_implementation
from gpu_table import error_note, format_table, num, target_line
from gpu_timing import Deadline
from gpu_worker import breaks_cuda_context, run_jobs, serve

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "gpu_models.json"
DEFAULT_NEURON_JSON = HERE / "results" / "gpu_neuron.json"
PACKAGES = ("torch", "triton", "spikedyn", "spikingjelly")
SPEEDUP_TARGET = 1.3


@dataclass(frozen=True)
class Workload:
    """A network and its input: T steps, batch B, and frames (events) or a static image repeated over T."""

    model: str
    steps: int
    batch: int
    channels: int
    size: int
    classes: int
    frames: bool

    def options(self, full_size: int) -> dict[str, int]:
        """Builder options: the input size only where it differs from the model's default."""
        return {} if self.size == full_size else {"input_size": self.size}


FULL = (Workload("plifnet_cifar10dvs", 10, 16, 2, 128, 10, True), Workload("sew_resnet18", 4, 32, 3, 224, 1000, False))
SMOKE = (Workload("plifnet_cifar10dvs", 2, 2, 2, 32, 10, True), Workload("sew_resnet18", 2, 2, 3, 32, 1000, False))
FULL_SIZES = {w.model: w.size for w in FULL}
#: (group, contender, compiled); groups run in this order, each in its own process.
CONTENDERS = (("spikedyn", "spikedyn", False), ("sj", "SJ 2.0", False), ("spikedyn-compile", "spikedyn", True))
SHARES = {"spikedyn": 0.3, "sj": 0.3, "spikedyn-compile": 0.4}

# --------------------------------------------------------------------------- worker side


def build(job: dict[str, Any], device: Any) -> tuple[Any, Any, Any, Callable[[], None]]:
    """(model, input, labels, after-step hook) of one job, on ``device``, seeded."""
    import torch

    from spikedyn.models import build_model

    work = Workload(**job["workload"])
    options = work.options(FULL_SIZES[work.model])
    torch.manual_seed(0)
    if job["contender"] == "SJ 2.0":
        from spikingjelly.activation_based import functional

        from sj_networks import build_sj_network

        model = build_sj_network(work.model, **options).to(device)
        after = lambda: functional.reset_net(model)  # noqa: E731
    else:
        model = build_model(work.model, **options).to(device)
        after = lambda: None  # noqa: E731
    shape = (work.batch, work.channels, work.size, work.size)
    if work.frames:
        x = (torch.rand((work.steps, *shape), device=device) < 0.2).float()  # sparse event counts, 0 or 1
    else:
        x = torch.rand(shape, device=device).unsqueeze(0).repeat(work.steps, 1, 1, 1, 1)
    labels = torch.randint(0, work.classes, (work.batch,), device=device)
    return model, x, labels, after


def measure(job: dict[str, Any], device: Any, rep_budget_s: float, reps: tuple[int, int]) -> dict[str, Any]:
    """First-step, median and best step time, peak memory, parameter count and top kernels of one job."""
    import torch

    from spikedyn.losses import get_loss
    from gpu_timing import adaptive_times, launched_kernels, summarize_times, synchronize, wall_seconds

    model, x, labels, after = build(job, device)
    model.train()
    forward = torch.compile(model) if job["compiled"] else model
    loss_fn = get_loss("sdt")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(x), labels).backward()
        optimizer.step()
        after()

    result: dict[str, Any] = {"first_call_s": wall_seconds(step, device), "parameters": sum(p.numel() for p in model.parameters())}
    step()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        resident = torch.cuda.memory_allocated(device)
    result.update(summarize_times(adaptive_times(step, device, rep_budget_s, *reps)))
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
        result.update(peak_memory_MiB=peak / 2**20, step_memory_MiB=(peak - resident) / 2**20, resident_MiB=resident / 2**20)
    result["kernels"] = launched_kernels(step, device, top=40)
    return result


def measure_all(payload: dict[str, Any], save: Callable[[list[dict[str, Any]]], None]) -> bool:
    """Worker: every job of the group until its deadline; saves after each. True if a CUDA error broke the context."""
    import torch

    logs = None
    if payload["group"] == "sj":
        from gpu_sj import LogCapture

        logs = LogCapture()
    device = torch.device(payload["device"])
    deadline = Deadline(payload["deadline"])
    results: list[dict[str, Any]] = []
    for job in payload["jobs"]:
        mark = len(logs.lines) if logs else 0
        started = time.perf_counter()
        if deadline.left() < 5.0:
            row: dict[str, Any] = {"skipped": "the group's share of --budget-s was spent"}
        else:
            try:
                row = measure(job, device, payload["rep_budget_s"], tuple(payload["reps"]))
            except Exception as exc:  # noqa: BLE001 - a failing contender is a row, never a crash
                row = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:2000]}"}
                if breaks_cuda_context(exc):
                    results.append({**job, **row})
                    save(results)
                    return True
        if logs:
            row["sj_log"] = logs.since(mark)
            row["sj_selected"] = {op: selected_implementation(row["sj_log"], f"sj_{op}") for op in ("plif", "lif")}
        results.append({**job, **row, "wall_s": time.perf_counter() - started})
        outcome = row.get("error") or row.get("skipped") or f"{row['median_s'] * 1e3:.1f} ms"
        print(f"  {job['label']}: {outcome}", file=sys.stderr, flush=True)
        save(results)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return False


# --------------------------------------------------------------------------- driver side


def sj_implementations(choice: str, neuron_json: Path) -> dict[str, str]:
    """{'plif': impl, 'lif': impl} for SJ: ``choice``, or with 'fastest' the fastest SJ PLIF that
    gpu_neuron.py measured (else auto); 'cuda' only where the native operator was built."""
    if choice == "fastest":
        try:
            choice = json.loads(neuron_json.read_text())["summary"]["sj_fastest_backend"] or "auto"
        except (OSError, ValueError, KeyError, TypeError):
            choice = "auto"
    if choice not in ("auto", "cuda", "triton", "torch"):
        choice = "auto"
    return {op: choice if choice != "cuda" or native_built(op) else "auto" for op in ("plif", "lif")}


def plan(args: argparse.Namespace) -> list[tuple[str, list[dict[str, Any]]]]:
    """[(group, jobs)] in run order."""
    workloads = SMOKE if args.smoke else FULL
    groups = []
    for group, contender, compiled in CONTENDERS:
        if compiled and args.no_compile:
            continue
        jobs = []
        for work in workloads:
            label = f"{contender}{' torch.compile' if compiled else ''} {work.model}"
            jobs.append(dict(key=label, label=label, contender=contender, compiled=compiled, model=work.model, workload=vars(work)))
        groups.append((group, jobs))
    return groups


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: spikedyn (eager) and SJ step times, the speed-up, peak memories and the target verdict."""
    summary = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        get = {r["contender"] + (" compiled" if r["compiled"] else ""): r for r in rows if r["model"] == model and r.get("median_s")}
        ours, sj = get.get("spikedyn"), get.get("SJ 2.0")
        speedup = sj["median_s"] / ours["median_s"] if ours and sj else None
        ours_peak, sj_peak = (r.get("peak_memory_MiB") if r else None for r in (ours, sj))
        less_memory = None if ours_peak is None or sj_peak is None else ours_peak <= sj_peak
        summary[model] = {
            "spikedyn_ms": ours["median_s"] * 1e3 if ours else None, "sj_ms": sj["median_s"] * 1e3 if sj else None,
            "speedup": speedup, "spikedyn_peak_MiB": ours_peak, "sj_peak_MiB": sj_peak,
            "pass": None if speedup is None or less_memory is None else speedup >= SPEEDUP_TARGET and less_memory,
            "speedup_pass": None if speedup is None else speedup >= SPEEDUP_TARGET, "memory_pass": less_memory,
        }  # fmt: skip
    return summary


def _notes(row: dict[str, Any]) -> str:
    if row.get("error") or row.get("skipped"):
        return ("ERROR " if row.get("error") else "SKIPPED ") + error_note(row)
    chosen = {op: impl for op, impl in (row.get("sj_selected") or {}).items() if impl}
    return ", ".join(f"SJ {op}: {impl}" for op, impl in chosen.items())


COLUMNS = (
    ("contender", lambda r: r["label"]),
    ("T x B", lambda r: f"{r['workload']['steps']} x {r['workload']['batch']}"),
    ("median ms", lambda r: num(r.get("median_s"), 1e3, 1)),
    ("min ms", lambda r: num(r.get("min_s"), 1e3, 1)),
    ("1st step s", lambda r: num(r.get("first_call_s"), digits=1)),
    ("peak MiB", lambda r: num(r.get("peak_memory_MiB"), digits=0)),
    ("step MiB", lambda r: num(r.get("step_memory_MiB"), digits=0)),
    ("params", lambda r: f"{r['parameters']:,}" if r.get("parameters") else "-"),
    ("reps", lambda r: str(r.get("repeats", "-"))),
    ("notes", _notes),
)


def report(data: dict[str, Any]) -> str:
    """The table and one target line per model."""
    lines = [f"SJ implementations requested: {data['sj_implementations']}", format_table(data["results"], COLUMNS, left=1), ""]
    for model, s in data["summary"].items():
        detail = (f"spikedyn {num(s['spikedyn_ms'], digits=1)} ms vs SJ {num(s['sj_ms'], digits=1)} ms = x{num(s['speedup'])}; "
                  f"peak {num(s['spikedyn_peak_MiB'], digits=0)} vs {num(s['sj_peak_MiB'], digits=0)} MiB")  # fmt: skip
        lines.append(target_line(f"{model}: >= {SPEEDUP_TARGET}x SJ with no more peak memory", s["pass"], detail))
    return "\n".join(lines)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, help="wall-clock seconds for all groups (default 90, 900 with --smoke)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="where the networks run (default cuda)")
    parser.add_argument("--smoke", action="store_true", help="T=2, B=2, 32x32 inputs, 2 steps: a check that everything runs")
    parser.add_argument("--sj-impl", default="fastest", choices=("fastest", "auto", "cuda", "triton", "torch"),
                        help="SJ's neuron implementation; 'fastest' reads --neuron-json's summary")  # fmt: skip
    parser.add_argument("--neuron-json", type=Path, default=DEFAULT_NEURON_JSON, help="gpu_neuron.py's output (for --sj-impl fastest)")
    parser.add_argument("--no-compile", action="store_true", help="leave out the torch.compile rows")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.budget_s is None:
        args.budget_s = 900.0 if args.smoke else 90.0
    args.rep_budget_s, args.reps = (0.0, (2, 2)) if args.smoke else (2.0, (5, 30))
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Run each group in its worker, write the JSON after each, print the table and the targets."""
    args = parse_args(argv)
    if args.worker is not None:
        return serve(args.worker, measure_all)
    started = time.perf_counter()
    deadline = Deadline.after(args.budget_s)
    impls = sj_implementations(args.sj_impl, args.neuron_json)
    envs = {"sj": {**implementation_env(impls["plif"], ("plif",)), **implementation_env(impls["lif"], ("lif",))}}
    groups = plan(args)
    rows: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    for index, (group, jobs) in enumerate(groups):
        budget = max(0.0, deadline.left()) * SHARES[group] / sum(SHARES[g] for g, _ in groups[index:])
        print(f"[{group}] {len(jobs)} networks, {budget:.0f} s", file=sys.stderr, flush=True)
        payload = dict(group=group, device=args.device, jobs=jobs, rep_budget_s=args.rep_budget_s, reps=args.reps)
        rows += run_jobs(Path(__file__).resolve(), payload, envs.get(group, {}), budget)
        data = {"machine": machine_info(1, PACKAGES), "settings": {k: str(v) for k, v in vars(args).items() if k != "worker"},
                "sj_implementations": impls, "loss": "sdt (cross-entropy of the output averaged over T)",
                "optimizer": "SGD(lr=0.01, momentum=0.9)", "results": rows, "summary": {},
                "elapsed_s": time.perf_counter() - started}  # fmt: skip
        try:
            data["summary"] = summarize(rows)
        except Exception as exc:  # noqa: BLE001 - the measurements are written even if the summary fails
            data["summary"] = {"error": f"{type(exc).__name__}: {exc}"}
        write_json_atomic(args.out, data)
    try:
        print(report(data))
    except Exception:  # noqa: BLE001 - the JSON is already written
        traceback.print_exc()
    print(f"wrote {args.out} in {data['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The shape sweep of benchmarks/neuron.py (``--sweep``): fused against reference and SpikingJelly on many shapes.

Every row is one input shape [T, B, *features] (2-D to 5-D; few features with many rows and the
reverse; T from 1 to 256) and one kind of tau. In one fresh process per row, spikedyn's PLIF on
the fused and the reference backend and SpikingJelly 2.0's eager ParametricLIFNode (per-layer tau,
its only kind) take turns, one timed forward+backward each per round, so a load that drifts hits
them alike. The row says fused / reference and SJ / fused; a fused row slower than the reference
is flagged.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_common import cpu_counters, machine_info, other_cpu_percent, timed, write_json_atomic

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "neuron_sweep.json"
WORKER_TIMEOUT_S = 600
CONTENDERS = ("fused", "reference", "SJ eager")
QUICK_SHRINK = 64  # --quick divides the batch (or the features of a batch-of-few row) by this


@dataclass(frozen=True)
class Row:
    """One input shape [T, B, *features] and the tau (and IMP) of spikedyn's neuron."""

    shape: tuple[int, ...]
    tau: str = "layer"  # tau_shape: layer, channel or neuron
    imp: str | None = None

    def label(self) -> str:
        """'[16, 262144] tau=layer' and '+IMP' where it has one."""
        return f"[{', '.join(map(str, self.shape))}] tau={self.tau}" + ("+IMP" if self.imp else "")

    def shrunk(self) -> Row:
        """The same row with a batch (or, for a batch of at most 16, its last feature dim) QUICK_SHRINK times smaller."""
        dims = list(self.shape)
        axis = 1 if dims[1] > 16 or len(dims) == 2 else len(dims) - 1
        dims[axis] = max(1, dims[axis] // QUICK_SHRINK)
        return Row(tuple(dims), self.tau, self.imp)


ROWS = (
    Row((16, 262144)),  # 2-D: one neuron per layer, the whole batch in one row
    Row((256, 16384)),
    Row((16, 262144, 1)),
    Row((16, 65536, 4), "neuron", "neuron"),  # few features, many rows
    Row((16, 16, 16384)),
    Row((16, 4, 65536), "neuron"),  # many features, few rows
    Row((16, 2048, 128)),
    Row((100, 256, 128)),
    Row((1, 64, 65536)),
    Row((4, 64, 16384), "channel"),
    Row((64, 64, 1024)),
    Row((256, 16, 1024)),
    Row((256, 2, 64)),  # tiny: per-call overheads
    Row((16, 32, 128)),
    Row((16, 16, 64, 256), "channel"),  # 4-D
    Row((16, 16, 64, 16, 16), "channel", "channel"),  # 5-D, a conv layer's output
    Row((8, 16, 128, 8, 8), "neuron"),
)


def build(contender: str, row: Row) -> tuple[Any, Callable[[Any], Any]]:
    """(module, forward) for one contender on ``row``'s features."""
    features = row.shape[2:]
    if contender == "SJ eager":
        from spikingjelly.activation_based import functional, neuron, surrogate

        node = neuron.ParametricLIFNode(
            init_tau=2.0, detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan(),
        )  # fmt: skip

        def forward(x: Any) -> Any:
            functional.reset_net(node)
            return node(x)

        return node, forward
    from spikedyn.neurons import PLIF

    module = PLIF(2.0, shape=features or None, tau_shape=row.tau, imp=row.imp, backend=contender)
    return module, module


def measure(row: Row, threads: int, budget_s: float) -> dict[str, Any]:
    """Median and best step time of each contender on ``row``, taking turns, within about ``budget_s``."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = (torch.randn(row.shape) * 1.5 + 0.5).requires_grad_()
    g = torch.randn(row.shape)
    built = {name: build(name, row) for name in CONTENDERS if name != "SJ eager" or _has_spikingjelly()}

    def step(name: str) -> None:
        module, forward = built[name]
        x.grad = None
        module.zero_grad(set_to_none=True)
        forward(x).backward(g)

    first = {name: timed(lambda: step(name)) for name in built}  # compiles or loads the numba cache
    estimate = sum(timed(lambda: step(name)) for name in built)
    rounds = max(3, min(30, int(budget_s / max(estimate, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name in built}
    before = cpu_counters()
    for _ in range(rounds):
        for name in built:
            times[name].append(timed(lambda: step(name)))
    result = {name: {"median_s": statistics.median(t), "min_s": min(t), "first_call_s": first[name]} for name, t in times.items()}
    return {"rounds": rounds, "contenders": result, "other_cpu_pct": other_cpu_percent(before, cpu_counters())}


def _has_spikingjelly() -> bool:
    import importlib.util

    return importlib.util.find_spec("spikingjelly") is not None


def worker_main(result_path: Path) -> None:
    """Measure the job read as JSON from stdin; write the result."""
    job = json.load(sys.stdin)
    try:
        result = measure(Row(tuple(job["shape"]), job["tau"], job["imp"]), job["threads"], job["budget_s"])
    except Exception as exc:  # noqa: BLE001 - reported in the table, the sweep goes on
        result = {"error": f"{type(exc).__name__}: {exc}"}
    write_json_atomic(result_path, result)


def run_row(row: Row, threads: int, budget_s: float) -> dict[str, Any]:
    """One row in a fresh subprocess of this module."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result.json"
        job = json.dumps({**asdict(row), "threads": threads, "budget_s": budget_s})
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)]
        try:
            proc = subprocess.run(cmd, input=job, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
            problem = f"worker exited with {proc.returncode}: {proc.stderr.strip()[-500:]}" if proc.returncode else "no result"
        except subprocess.TimeoutExpired:
            problem = f"worker timed out after {WORKER_TIMEOUT_S} s"
        return json.loads(path.read_text()) if path.exists() else {"error": problem}


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """fused, reference and SJ medians in ms, and the ratios fused/reference and SJ/fused."""
    c = result.get("contenders", {})
    ms = {name: c[name]["median_s"] * 1e3 if name in c else None for name in CONTENDERS}
    fused, reference, sj = ms["fused"], ms["reference"], ms["SJ eager"]
    return {
        "fused_ms": fused,
        "reference_ms": reference,
        "SJ_eager_ms": sj,
        "fused_over_reference": fused / reference if fused and reference else None,
        "SJ_over_fused": sj / fused if fused and sj else None,
    }


def format_row(record: dict[str, Any]) -> str:
    """One line of the sweep's table."""
    if "error" in record:
        return f"{record['row']:44} ERROR {record['error']}"
    f = record["figures"]

    def num(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    flag = "  FUSED SLOWER THAN REFERENCE" if (f["fused_over_reference"] or 0) > 1 else ""
    busy = record.get("other_cpu_pct")
    note = f"  busy: others {busy:.0f}% CPU" if busy is not None and busy > 15 else ""
    return (f"{record['row']:44} {record['elements']:>10} {num(f['fused_ms'], '9.2f')} {num(f['reference_ms'], '9.2f')} "
            f"{num(f['SJ_eager_ms'], '9.2f')} {num(f['fused_over_reference'], '8.2f')} {num(f['SJ_over_fused'], '7.2f')}{flag}{note}")  # fmt: skip


HEADER = f"{'shape':44} {'T*B*N':>10} {'fused ms':>9} {'ref ms':>9} {'SJ ms':>9} {'fus/ref':>8} {'SJ/fus':>7}"


def run_sweep(out: Path | None, quick: bool, threads: int, budget_s: float) -> int:
    """Run every row, print the table, write the JSON; exit status 2 on a failed row, or a fused row slower than the reference.

    Under ``quick`` the rows are small enough that fixed per-call costs decide, so only failures count.
    """
    started = time.perf_counter()
    rows = [r.shrunk() for r in ROWS] if quick else list(ROWS)
    records = []
    print(HEADER, flush=True)
    for row in rows:
        result = run_row(row, threads, budget_s)
        record = {"row": row.label(), **asdict(row), "elements": math.prod(row.shape), **result}
        if "error" not in result:
            record["figures"] = figures(result)
        records.append(record)
        print(format_row(record), flush=True)
    data = {"machine": machine_info(threads), "settings": {"quick": quick, "budget_s": budget_s, "dtype": "float32",
            "step": "forward, then backward of spikes.backward(g), fixed x = 1.5 randn + 0.5"}, "results": records,
            "elapsed_s": time.perf_counter() - started}  # fmt: skip
    out = out or DEFAULT_OUT
    write_json_atomic(out, data)
    print(f"wrote {out} in {data['elapsed_s']:.0f} s")
    slower = [r for r in records if (r.get("figures", {}).get("fused_over_reference") or 0) > 1]
    return 2 if (slower and not quick) or any("error" in r for r in records) else 0


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--worker":
    worker_main(Path(sys.argv[2]))

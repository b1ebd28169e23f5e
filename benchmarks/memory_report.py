"""Text tables and the summary block of memory.py's results."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

MIB = 1 << 20
RUNS = (("plain", "spikedyn"), ("compact", "spikedyn compact"), ("packed_only", "spikedyn compact, recompute=False"), ("spikingjelly", "SpikingJelly 2.0"))


def _mib(n: float) -> str:
    return f"{n / MIB:9.2f}"


def by_kind(rows: list[dict[str, Any]]) -> list[tuple[str, float, float, int]]:
    """Activation bytes grouped by (layer type, dtype, exactly binary, held as): where the bytes are."""
    groups: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for row in rows:
        key = f"{row['type']:22} {row['dtype']:8} {'0/1' if row['binary'] else '   '} as {row['held_as']}"
        group = groups[key]
        group[0] += row["original_bytes"]
        group[1] += row["held_bytes"]
        group[2] += row["tensors"]
    return sorted(((k, *v) for k, v in groups.items()), key=lambda g: -g[1])


def network_text(name: str, result: dict[str, Any]) -> str:
    """Saved bytes of each run with where they are, the ratios, exactness and step times of one network."""
    lines = [f"\n== {name}: input {result['input']} ({result['input_kind']}), loss {result['loss']}"]
    for run, label in RUNS:
        lines.append(f"-- {label}: {result['saved_bytes'][run] / MIB:.2f} MiB saved for backward")
        lines.append(f"   {'layer type, dtype, values, held as':52} {'tensors':>7} {'as is MiB':>9} {'held MiB':>9}")
        for key, original, held, count in by_kind(result["breakdown"][run]):
            lines.append(f"   {key:52} {count:7d} {_mib(original)} {_mib(held)}")
    r = result["ratios"]
    lines.append(
        f"ratios: SJ / compact {r['sj_over_compact']:.2f}x, SJ / compact(recompute=False) {r['sj_over_packed_only']:.2f}x, "
        f"SJ / plain {r['sj_over_plain']:.2f}x, plain / compact {r['plain_over_compact']:.2f}x; "
        f"gradients bit-identical: {result['gradients_identical']}"
    )
    t = result["step_time"]
    for mode in ("compact", "packed_only"):
        lines.append(
            f"step time {mode} / plain: median of interleaved pairs wall {t[f'ratio_{mode}_wall']:.3f}, CPU {t[f'ratio_{mode}_cpu']:.3f}; "
            f"of minima wall {t[f'ratio_{mode}_wall_of_minima']:.3f}, CPU {t[f'ratio_{mode}_cpu_of_minima']:.3f}; "
            f"plain median {t['plain']['wall']['median_s'] * 1e3:.0f} ms wall, {t['plain']['cpu']['median_s'] * 1e3:.0f} ms CPU"
        )
    if "peak_cuda_bytes" in result:
        lines.append("peak CUDA MiB: " + ", ".join(f"{k} {v / MIB:.1f}" for k, v in result["peak_cuda_bytes"].items()))
    return "\n".join(lines)


def summary(networks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per network: MiB of each run, the ratios, exactness and the step-time ratios."""
    out = {}
    for name, result in networks.items():
        t = result["step_time"]
        out[name] = {
            **{f"{run}_MiB": result["saved_bytes"][run] / MIB for run, _ in RUNS},
            **result["ratios"],
            "gradients_identical": result["gradients_identical"],
            **{f"step_ratio_{mode}_{clock}": t[f"ratio_{mode}_{clock}"] for mode in ("compact", "packed_only") for clock in ("wall", "cpu")},
            **{f"step_ratio_{mode}_{clock}_of_minima": t[f"ratio_{mode}_{clock}_of_minima"] for mode in ("compact", "packed_only") for clock in ("wall", "cpu")},
        }
    return out


def summary_text(data: dict[str, Any]) -> str:
    """One line per network."""
    lines = ["\nsummary (MiB saved for backward; ratios; step time / plain: median of interleaved pairs, wall and CPU):"]
    for name, s in data.items():
        lines.append(
            f"  {name:20} plain {s['plain_MiB']:8.2f}  compact {s['compact_MiB']:8.2f}  SJ {s['spikingjelly_MiB']:8.2f}  "
            f"SJ/compact {s['sj_over_compact']:.2f}x  SJ/compact(recompute=False) {s['sj_over_packed_only']:.2f}x  "
            f"time compact {s['step_ratio_compact_wall']:.3f}/{s['step_ratio_compact_cpu']:.3f}  "
            f"recompute=False {s['step_ratio_packed_only_wall']:.3f}/{s['step_ratio_packed_only_cpu']:.3f}  "
            f"exact {s['gradients_identical']}"
        )
    return "\n".join(lines)

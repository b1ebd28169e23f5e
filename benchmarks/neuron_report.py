"""The report of benchmarks/neuron.py: its table, its summary block and their JSON fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from neuron_contenders import Config

BUSY_PERCENT = 15.0  # other processes' share of the machine's CPU above which a row is flagged and retried


def is_busy(result: dict[str, Any]) -> bool:
    """True when other processes took more than BUSY_PERCENT of the CPU during the measurement."""
    return (result.get("other_cpu_pct") or 0.0) > BUSY_PERCENT


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
    ("alt ms", lambda r: _num(r.get("alternating_median_s"), 1e3, 2)),
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
        fused_alt = get(mode, "spikedyn PLIF(layer)", "fused", "alternating_median_s")
        figures = {"fused_PLIF_layer_ms": ms(fused), "fused_PLIF_layer_alternating_ms": ms(fused_alt)}
        for key, name, backend, _, _ in PEERS:
            figures[f"{key}_ms"] = ms(get(mode, name, backend))
            figures[f"speedup_vs_{key}"] = _ratio(get(mode, name, backend), fused)
            figures[f"{key}_alternating_ms"] = ms(get(mode, name, backend, "alternating_median_s"))
            figures[f"speedup_vs_{key}_alternating"] = _ratio(get(mode, name, backend, "alternating_median_s"), fused_alt)
        figures["SJ_compile_s"] = get(mode, "SJ PLIF", "torch.compile", "first_call_overhead_s")
        for backend in ("fused", "reference"):
            layer = get(mode, "spikedyn PLIF(layer)", backend)
            figures[f"per_neuron_tau_cost_pct_{backend}"] = _percent(get(mode, "spikedyn PLIF(neuron)", backend), layer)
            figures[f"imp_cost_pct_{backend}"] = _percent(get(mode, "spikedyn PLIF(layer)+IMP", backend), layer)
        for name, peers in EXTENDED:
            ours = get(mode, f"spikedyn {name}", "fused")
            figures[f"fused_{name}_ms"], figures[f"fused_{name}_over_PLIF"] = ms(ours), _ratio(ours, fused)
            for peer in peers:
                figures[f"{peer}_ms"], figures[f"speedup_{name}_vs_{peer}"] = ms(get(mode, peer, "eager")), _ratio(get(mode, peer, "eager"), ours)
        summary[mode] = figures
    return summary


# spikedyn's neurons beyond tau and the peers' models of the same kind (benchmarks/neuron_extended_contenders.py)
EXTENDED = (("ALIF", ("Norse LSNN",)), ("CubaLIF", ("Norse LIF current-based", "snnTorch Synaptic")))


def _extended_lines(mode: str, f: dict[str, float | None]) -> list[str]:
    """Per extended neuron that ran: its time, its ratio to the fused PLIF, and the peers' ratios to it."""
    lines = []
    for name, peers in EXTENDED:
        if f.get(f"fused_{name}_ms") is None:
            continue
        versus = [f"{peer} {_num(f[f'{peer}_ms'], digits=2)} ms (x{_num(f[f'speedup_{name}_vs_{peer}'], digits=2)})"
                  for peer in peers if f.get(f"{peer}_ms") is not None]  # fmt: skip
        lines.append(f"  [{mode}] spikedyn {name} [fused] {_num(f[f'fused_{name}_ms'], digits=2)} ms, "
                     f"{_num(f[f'fused_{name}_over_PLIF'], digits=2)}x the fused PLIF's; " + "; ".join(versus))  # fmt: skip
    return lines


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
        lines.append(f"  [{mode}] alone: " + "; ".join([ours, *peers]))
        peers = [
            f"{label.format(versions.get(package) or '?')} {_num(f[f'{key}_alternating_ms'], digits=2)} ms "
            f"(x{_num(f[f'speedup_vs_{key}_alternating'], digits=2)})"
            for key, _, _, package, label in PEERS
            if f[f"{key}_alternating_ms"] is not None
        ]
        ours = f"spikedyn PLIF(layer) [fused] {_num(f['fused_PLIF_layer_alternating_ms'], digits=2)} ms"
        lines.append(f"  [{mode}] alternating with a matmul: " + "; ".join([ours, *peers]))
        lines += _extended_lines(mode, f)
        if f["SJ_compile_s"] is not None:
            lines.append(f"  [{mode}] SJ torch.compile's first call took {_num(f['SJ_compile_s'])} s more than its median")
        for backend in ("fused", "reference"):
            lines.append(
                f"  [{mode}] {backend}: per-neuron tau {_num(f[f'per_neuron_tau_cost_pct_{backend}'], digits=1)} %, "
                f"IMP {_num(f[f'imp_cost_pct_{backend}'], digits=1)} % vs PLIF(layer)"
            )
    return "\n".join(lines)


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

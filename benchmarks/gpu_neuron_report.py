"""gpu_neuron.py's derived figures (bandwidth), its summary with the targets, and its console tables."""

from __future__ import annotations

from typing import Any

from gpu_table import error_note, format_table, num, target_line

# The bandwidth share is at the byte model's count (24 B per element-step in float32, 12 in bfloat16), in float32
# and bfloat16; the speedup is over SJ's Triton PLIF in float32, which moves about 28 B per element-step.
BANDWIDTH_TARGET, SPEEDUP_TARGET, IMP_COST_TARGET = 0.80, 1.15, 0.05
SPIKEDYN, SPIKEDYN_IMP = ("spikedyn PLIF(layer)", "triton"), ("spikedyn PLIF(neuron)+IMP", "triton")
SJ_TRITON = ("SJ PLIF", "triton")


def derive(rows: list[dict[str, Any]], device: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with effective GB/s (byte model / median time) and its share of the HBM peak and of the copy."""
    peak = device.get("hbm_peak_bytes_per_s")
    copy = (device.get("copy") or {}).get("bytes_per_s")
    derived = []
    for row in rows:
        row = dict(row)
        if row.get("median_s") and row.get("model_bytes"):
            rate = row["model_bytes"] / row["median_s"]
            row["effective_GBps"] = rate / 1e9
            row["pct_of_hbm_peak"] = 100 * rate / peak if peak else None
            row["pct_of_copy"] = 100 * rate / copy if copy else None
        derived.append(row)
    return derived


def _at(rows: list[dict[str, Any]], check: Any, mode: str = "grad", dtype: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """{(contender, backend): row} of measured rows at the checklist's case (in another dtype if given)."""
    case = (check.steps, check.total, dtype or check.dtype, mode)
    return {(r["contender"], r["backend"]): r for r in rows
            if (r["steps"], r["total"], r["dtype"], r["mode"]) == case and r.get("median_s")}  # fmt: skip


def _share(row: dict[str, Any] | None) -> tuple[float | None, str]:
    """A row's bandwidth as a share of the datasheet HBM peak, or of the measured copy where the device has none."""
    if row and row.get("pct_of_hbm_peak") is not None:
        return row["pct_of_hbm_peak"] / 100, "datasheet HBM peak"
    if row and row.get("pct_of_copy") is not None:
        return row["pct_of_copy"] / 100, "measured copy bandwidth (device not in the peak table)"
    return None, "datasheet HBM peak"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def summarize(rows: list[dict[str, Any]], check: Any) -> dict[str, Any]:
    """The checklist's figures at the check case, each None when a row it needs was not measured."""
    grad, user = _at(rows, check), _at(rows, check, "user-first")
    ours, imp = grad.get(SPIKEDYN), grad.get(SPIKEDYN_IMP)
    ours_bf16 = _at(rows, check, dtype="bfloat16").get(SPIKEDYN)
    sj = {key: row for key, row in grad.items() if key[0] == "SJ PLIF"}
    fastest = min(sj, key=lambda k: sj[k]["median_s"]) if sj else None
    sj_triton = sj.get(SJ_TRITON)
    ours_ms = ours["median_s"] * 1e3 if ours else None
    share, basis = _share(ours)
    share_bf16, _ = _share(ours_bf16)
    speedup = _ratio(sj_triton["median_s"], ours["median_s"]) if sj_triton and ours else None
    imp_cost = _ratio(imp["median_s"], ours["median_s"]) if imp and ours else None
    user_ours = user.get(SPIKEDYN)
    user_sj = user.get(fastest) if fastest else None
    return {
        "case": {"T": check.steps, "BN": check.total, "dtype": check.dtype},
        "spikedyn_ms": ours_ms,
        "spikedyn_GBps": ours.get("effective_GBps") if ours else None,
        "bandwidth_share": share,
        "bandwidth_basis": basis,
        "bandwidth_pass": None if share is None else share >= BANDWIDTH_TARGET,
        "bf16_GBps": ours_bf16.get("effective_GBps") if ours_bf16 else None,
        "bandwidth_bf16_share": share_bf16,
        "bandwidth_bf16_pass": None if share_bf16 is None else share_bf16 >= BANDWIDTH_TARGET,
        "sj_ms": {f"{k[0]} [{k[1]}]": r["median_s"] * 1e3 for k, r in sj.items()},
        "sj_triton_ms": sj_triton["median_s"] * 1e3 if sj_triton else None,
        "speedup_vs_sj_triton": speedup,
        "speedup_pass": None if speedup is None else speedup >= SPEEDUP_TARGET,
        "sj_fastest_backend": fastest[1] if fastest else None,
        "sj_fastest_ms": sj[fastest]["median_s"] * 1e3 if fastest else None,
        "speedup_vs_sj_fastest": _ratio(sj[fastest]["median_s"], ours["median_s"]) if fastest and ours else None,
        "imp_ms": imp["median_s"] * 1e3 if imp else None,
        "imp_cost": None if imp_cost is None else imp_cost - 1,
        "imp_pass": None if imp_cost is None else imp_cost - 1 <= IMP_COST_TARGET,
        "user_first_spikedyn_ms": user_ours["median_s"] * 1e3 if user_ours else None,
        "user_first_sj_ms": user_sj["median_s"] * 1e3 if user_sj else None,
        "user_first_speedup": _ratio(user_sj["median_s"], user_ours["median_s"]) if user_sj and user_ours else None,
    }


def checklist(s: dict[str, Any]) -> list[str]:
    """The target lines, with the measured numbers, SJ's fastest, and the user-first comparison."""
    case = f"T={s['case']['T']}, B*N=2**{s['case']['BN'].bit_length() - 1}, {s['case']['dtype']}"
    pct = None if s["bandwidth_share"] is None else s["bandwidth_share"] * 100
    pct_bf16 = None if s["bandwidth_bf16_share"] is None else s["bandwidth_bf16_share"] * 100
    sj = ", ".join(f"{k} {v:.3f} ms" for k, v in s["sj_ms"].items()) or "no SJ row measured"
    imp_pct = None if s["imp_cost"] is None else s["imp_cost"] * 100
    return [
        f"Targets at {case} (median of forward+backward):",
        target_line(f"spikedyn PLIF(layer) triton >= {BANDWIDTH_TARGET:.0%} of the HBM bound at 24 B per element-step", s["bandwidth_pass"],
                    f"{num(s['spikedyn_ms'], digits=3)} ms, {num(s['spikedyn_GBps'], digits=0)} GB/s = {num(pct, digits=1)} % of the {s['bandwidth_basis']}"),
        target_line(f"the same in bfloat16 >= {BANDWIDTH_TARGET:.0%} of the HBM bound at 12 B per element-step", s["bandwidth_bf16_pass"],
                    f"{num(s['bf16_GBps'], digits=0)} GB/s = {num(pct_bf16, digits=1)} %"),
        target_line(f"spikedyn PLIF(layer) triton >= {SPEEDUP_TARGET}x SJ's Triton PLIF", s["speedup_pass"],
                    f"x{num(s['speedup_vs_sj_triton'])}: {num(s['spikedyn_ms'], digits=3)} ms vs {num(s['sj_triton_ms'], digits=3)} ms"),
        target_line(f"PLIF(neuron)+IMP costs <= {IMP_COST_TARGET:.0%} more than PLIF(layer)", s["imp_pass"],
                    f"{num(s['imp_ms'], digits=3)} ms vs {num(s['spikedyn_ms'], digits=3)} ms: {num(imp_pct, digits=1)} %"),
        f"SJ's fastest: [{s['sj_fastest_backend']}], x{num(s['speedup_vs_sj_fastest'])} ({sj})",
        f"user-first loop (fresh input, spikes.sum().backward()): spikedyn {num(s['user_first_spikedyn_ms'], digits=3)} ms, "
        f"SJ [{s['sj_fastest_backend']}] {num(s['user_first_sj_ms'], digits=3)} ms, x{num(s['user_first_speedup'])}",
    ]  # fmt: skip


def _notes(row: dict[str, Any]) -> str:
    if row.get("error") or row.get("skipped"):
        return ("SKIPPED " if row.get("skipped") else "ERROR ") + error_note(row)
    kernels = row.get("kernels") or {}
    top = f"{len(kernels)}+ kernels, top: {next(iter(kernels))[:48]}" if kernels else ""
    chose = f"SJ chose {row['sj_selected']}" if row.get("sj_selected") else ""
    return "; ".join(x for x in (chose, top, f"spikes {row['spike_dtype']}" if row.get("spike_dtype") not in (None, row["dtype"]) else "") if x)


COLUMNS = (
    ("contender", lambda r: r["contender"]),
    ("backend", lambda r: r["backend"] + (" (user-first)" if r["mode"] != "grad" else "")),
    ("T", lambda r: str(r["steps"])),
    ("B*N", lambda r: f"2**{r['total'].bit_length() - 1}"),
    ("median ms", lambda r: num(r.get("median_s"), 1e3, 3)),
    ("min ms", lambda r: num(r.get("min_s"), 1e3, 3)),
    ("fwd ms", lambda r: num(r.get("forward_median_s"), 1e3, 3)),
    ("GB/s", lambda r: num(r.get("effective_GBps"), digits=0)),
    ("%peak", lambda r: num(r.get("pct_of_hbm_peak"), digits=1)),
    ("%copy", lambda r: num(r.get("pct_of_copy"), digits=1)),
    ("peak MiB", lambda r: num(r.get("peak_memory_MiB"), digits=0)),
    ("1st call s", lambda r: num(r.get("first_call_s"), digits=2)),
    ("reps", lambda r: str(r.get("repeats", "-"))),
    ("notes", _notes),
)


def report(data: dict[str, Any], check: Any) -> str:
    """Device line, one table per dtype, skipped contenders and the checklist."""
    device = data.get("device") or {}
    copy = device.get("copy") or {}
    peak = device.get("hbm_peak_bytes_per_s")
    lines = [f"device: {device.get('name', '?')} (torch {device.get('torch')}, CUDA {device.get('cuda')}); "
             f"HBM peak {num(peak, 1e-9, 0)} GB/s; measured copy {num(copy.get('bytes_per_s'), 1e-9, 0)} GB/s",
             f"byte model: {data['byte_model']}"]  # fmt: skip
    for dtype in ("float32", "bfloat16"):
        rows = [r for r in data["results"] if r["dtype"] == dtype]
        if rows:
            lines += ["", f"{dtype}:", format_table(rows, COLUMNS)]
    lines += [""] + [f"skipped: {note}" for note in data["skipped"]]
    native = (data.get("sj_native_build") or {}).get("plif")
    if native is not None:
        lines.append(f"SJ native CUDA build: {'ok' if native.get('ok') else native.get('error', '')[:200]}")
    return "\n".join(lines + [""] + checklist(data["summary"]))

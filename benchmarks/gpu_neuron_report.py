"""gpu_neuron.py's derived figures (bandwidth), its summary with the three targets, and its console tables."""

from __future__ import annotations

from typing import Any

from gpu_table import error_note, format_table, num, target_line

BANDWIDTH_TARGET, SPEEDUP_TARGET, IMP_COST_TARGET = 0.75, 1.5, 0.05
SPIKEDYN, SPIKEDYN_IMP = ("spikedyn PLIF(layer)", "triton"), ("spikedyn PLIF(neuron)+IMP", "triton")


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


def _at(rows: list[dict[str, Any]], check: Any, mode: str = "grad") -> dict[tuple[str, str], dict[str, Any]]:
    """{(contender, backend): row} of measured rows at the checklist's case."""
    return {(r["contender"], r["backend"]): r for r in rows
            if (r["steps"], r["total"], r["dtype"], r["mode"]) == (check.steps, check.total, check.dtype, mode)
            and r.get("median_s")}  # fmt: skip


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def summarize(rows: list[dict[str, Any]], check: Any) -> dict[str, Any]:
    """The checklist's figures at the check case, each None when a row it needs was not measured."""
    grad, user = _at(rows, check), _at(rows, check, "user-first")
    ours, imp = grad.get(SPIKEDYN), grad.get(SPIKEDYN_IMP)
    sj = {key: row for key, row in grad.items() if key[0] == "SJ PLIF"}
    fastest = min(sj, key=lambda k: sj[k]["median_s"]) if sj else None
    ours_ms = ours["median_s"] * 1e3 if ours else None
    share = ours.get("pct_of_hbm_peak") if ours else None
    basis = "datasheet HBM peak"
    if ours and share is None and ours.get("pct_of_copy") is not None:
        share, basis = ours["pct_of_copy"], "measured copy bandwidth (device not in the peak table)"
    imp_cost = _ratio(imp["median_s"], ours["median_s"]) if imp and ours else None
    user_ours = user.get(SPIKEDYN)
    user_sj = user.get(fastest) if fastest else None
    return {
        "case": {"T": check.steps, "BN": check.total, "dtype": check.dtype},
        "spikedyn_ms": ours_ms,
        "spikedyn_GBps": ours.get("effective_GBps") if ours else None,
        "bandwidth_share": None if share is None else share / 100,
        "bandwidth_basis": basis,
        "bandwidth_pass": None if share is None else share / 100 >= BANDWIDTH_TARGET,
        "sj_ms": {f"{k[0]} [{k[1]}]": r["median_s"] * 1e3 for k, r in sj.items()},
        "sj_fastest_backend": fastest[1] if fastest else None,
        "sj_fastest_ms": sj[fastest]["median_s"] * 1e3 if fastest else None,
        "speedup_vs_sj_fastest": _ratio(sj[fastest]["median_s"], ours["median_s"]) if fastest and ours else None,
        "speedup_pass": None if not (fastest and ours) else sj[fastest]["median_s"] / ours["median_s"] >= SPEEDUP_TARGET,
        "imp_ms": imp["median_s"] * 1e3 if imp else None,
        "imp_cost": None if imp_cost is None else imp_cost - 1,
        "imp_pass": None if imp_cost is None else imp_cost - 1 <= IMP_COST_TARGET,
        "user_first_spikedyn_ms": user_ours["median_s"] * 1e3 if user_ours else None,
        "user_first_sj_ms": user_sj["median_s"] * 1e3 if user_sj else None,
        "user_first_speedup": _ratio(user_sj["median_s"], user_ours["median_s"]) if user_sj and user_ours else None,
    }


def checklist(s: dict[str, Any]) -> list[str]:
    """The three target lines, with the measured numbers, and the user-first comparison."""
    case = f"T={s['case']['T']}, B*N=2**{s['case']['BN'].bit_length() - 1}, {s['case']['dtype']}"
    pct = None if s["bandwidth_share"] is None else s["bandwidth_share"] * 100
    sj = ", ".join(f"{k} {v:.3f} ms" for k, v in s["sj_ms"].items()) or "no SJ row measured"
    imp_pct = None if s["imp_cost"] is None else s["imp_cost"] * 100
    return [
        f"Targets at {case} (median of forward+backward):",
        target_line(f"spikedyn PLIF(layer) triton >= {BANDWIDTH_TARGET:.0%} of the HBM bound", s["bandwidth_pass"],
                    f"{num(s['spikedyn_ms'], digits=3)} ms, {num(s['spikedyn_GBps'], digits=0)} GB/s = {num(pct, digits=1)} % of the {s['bandwidth_basis']}"),
        target_line(f"spikedyn PLIF(layer) triton >= {SPEEDUP_TARGET}x SJ's fastest", s["speedup_pass"],
                    f"x{num(s['speedup_vs_sj_fastest'])} vs SJ [{s['sj_fastest_backend']}] ({sj})"),
        target_line(f"PLIF(neuron)+IMP costs <= {IMP_COST_TARGET:.0%} more than PLIF(layer)", s["imp_pass"],
                    f"{num(s['imp_ms'], digits=3)} ms vs {num(s['spikedyn_ms'], digits=3)} ms: {num(imp_pct, digits=1)} %"),
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

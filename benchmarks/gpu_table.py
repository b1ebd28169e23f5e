"""Plain-text tables and PASS/FAIL target lines for the GPU benchmarks' console output."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Column = tuple[str, Callable[[dict[str, Any]], str]]


def num(value: float | None, scale: float = 1.0, digits: int = 2) -> str:
    """``value * scale`` with ``digits`` decimals, '-' for None."""
    return "-" if value is None else f"{value * scale:.{digits}f}"


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], left: int = 2) -> str:
    """One aligned line per row; the first ``left`` columns and the last are left-aligned."""
    cells = [[header for header, _ in columns]] + [[cell(row) for _, cell in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lefts = set(range(left)) | {len(columns) - 1}
    return "\n".join(
        "  ".join(v.ljust(w) if i in lefts else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths))).rstrip()
        for line in cells
    )


def verdict(passed: bool | None) -> str:
    """PASS, FAIL, or NOT MEASURED when a figure the target needs is missing."""
    return "NOT MEASURED" if passed is None else ("PASS" if passed else "FAIL")


def target_line(label: str, passed: bool | None, detail: str) -> str:
    """'[PASS] label: detail'."""
    return f"[{verdict(passed)}] {label}: {detail}"


def error_note(row: dict[str, Any]) -> str:
    """The row's error or skip reason, shortened to one line."""
    text = row.get("error") or row.get("skipped") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= 160 else text[:157] + "..."

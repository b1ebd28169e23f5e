"""The two accuracy protocols of the PLIF paper, read from a run's per-epoch history."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _valid(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def protocol_a(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Protocol A: the maximum test accuracy over all epochs (what the papers report), and its epoch."""
    rows = [row for row in history if _valid(row.get("test_acc"))]
    if not rows:
        return None
    best = max(rows, key=lambda row: row["test_acc"])  # the first epoch reaching the maximum
    return {"test_acc": best["test_acc"], "epoch": best["epoch"]}


def protocol_b(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Protocol B (PLIF paper, Table S2): the test accuracy at the epoch of best validation accuracy.

    Ties in validation accuracy go to the earliest epoch, the one a checkpoint chosen by
    validation would keep.
    """
    rows = [row for row in history if _valid(row.get("val_acc"))]
    if not rows:
        return None
    best = max(rows, key=lambda row: row["val_acc"])
    return {"val_acc": best["val_acc"], "test_acc": best.get("test_acc"), "epoch": best["epoch"]}

"""The PLIF paper's two accuracy protocols: two different trainings, and what each reports.

- A (its Table 2): train on the whole official training set, test every epoch, report the
  maximum test accuracy. There is no validation split.
- B (its Table S2, supplementary Sec. 7): train on 85% of each class of the training set,
  validate on the other 15%, report the test accuracy of the epoch with the best validation
  accuracy. A B run's maximum test accuracy is kept for information only (``max_test``): it is
  not protocol A, whose model saw 15% more training data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PROTOCOLS = ("A", "B")
RULES = {
    "A": "whole training set; maximum test accuracy over the epochs (PLIF paper, Table 2)",
    "B": "85% of each class for training, 15% for validation; test accuracy at the best validation epoch (PLIF paper, Table S2)",
}
#: The metric each protocol selects its epoch (and best checkpoint) by.
SELECTED_BY = {"A": "test_acc", "B": "val_acc"}
#: The history key of an epoch that diverged and trained on (``trainer.on_divergence=warn``): what diverged.
DIVERGED = "diverged"


def dataset_options(options: dict[str, Any], protocol: str) -> dict[str, Any]:
    """A config's dataset options for its protocol: A holds nothing out for validation."""
    return {**options, "val_fraction": 0.0} if protocol == "A" else dict(options)


def _valid(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def protocol_a(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The maximum test accuracy over all epochs and its (first) epoch: protocol A's result, or a B run's ``max_test``.

    Epochs that diverged (and trained on, ``trainer.on_divergence=warn``) are never chosen, as
    they never become ``best.ckpt``.
    """
    rows = [row for row in history if _valid(row.get("test_acc")) and not row.get(DIVERGED)]
    if not rows:
        return None
    best = max(rows, key=lambda row: row["test_acc"])  # the first epoch reaching the maximum
    return {"test_acc": best["test_acc"], "epoch": best["epoch"]}


def protocol_b(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The test accuracy at the epoch of best validation accuracy.

    Ties in validation accuracy go to the earliest epoch, the one a checkpoint chosen by
    validation would keep. Diverged epochs are left out, as in :func:`protocol_a`.
    """
    rows = [row for row in history if _valid(row.get("val_acc")) and not row.get(DIVERGED)]
    if not rows:
        return None
    best = max(rows, key=lambda row: row["val_acc"])
    return {"val_acc": best["val_acc"], "test_acc": best.get("test_acc"), "epoch": best["epoch"]}


def protocol_fields(protocol: str, history: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What summary.json says of the accuracies: the protocol, its result under its own name, and a B run's max test."""
    if protocol == "A":
        return {"protocol": "A", "protocol_A": protocol_a(history)}
    return {"protocol": "B", "protocol_B": protocol_b(history), "max_test": protocol_a(history)}


def reported(summary: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(protocol, its result or {}) of a run's summary.

    Summaries written before runs had a protocol were all trained with a validation split:
    they are B runs, and their "protocol_A" entry was the maximum test accuracy of that run.
    """
    protocol = summary.get("protocol", "B")
    return protocol, summary.get(f"protocol_{protocol}") or {}


def max_test_info(summary: dict[str, Any]) -> dict[str, Any]:
    """A B run's maximum test accuracy (for information; never protocol A), {} for an A run."""
    if summary.get("protocol", "B") != "B":
        return {}
    return summary.get("max_test") or (summary.get("protocol_A") if "protocol" not in summary else None) or {}


def percent(value: object) -> str:
    """A fraction as "12.34%", "-" where there is none."""
    return f"{100 * value:.2f}%" if _valid(value) else "-"


def accuracy_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of a run's reported accuracy, named by its protocol, for printouts and reports."""
    protocol, result = reported(summary)
    at = f"{percent(result.get('test_acc'))} at epoch {result.get('epoch', '-')}"
    if protocol == "A":
        return [("protocol A (whole training set; maximum test accuracy)", at)]
    lines = [(f"protocol B (85/15 split; test accuracy at the best val {percent(result.get('val_acc'))})", at)]
    info = max_test_info(summary)
    if info:
        lines.append(("maximum test accuracy of this B run (for information; not protocol A)",
                      f"{percent(info.get('test_acc'))} at epoch {info.get('epoch', '-')}"))  # fmt: skip
    return lines

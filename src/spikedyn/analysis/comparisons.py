"""Comparisons of a sweep: runs matching one set of config values (side a) against another (side b), by Welch's test.

A sweep file's ``comparisons:`` list names them, each ``{name, a: {dotted.key: value}, b: {...}}``
and optionally ``within: [dotted.key, ...]`` to compare separately for each value of those keys.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.statistics import CONFIDENCE, Difference, welch
from spikedyn.analysis.tables import (
    RunMetric,
    describe,
    flatten,
    load_runs,
    markdown_header,
    markdown_row,
    metric_value,
    percent_or_dash,
    reported_accuracy,
    run_protocol,
    write_records_csv,
)

SWEEP_FILE = "sweep.yaml"
COLUMNS = ["name", "within", "a", "b", "n_a", "n_b", "mean_a", "mean_b", "std_a", "std_b", "diff", "ci_low", "ci_high", "df", "t", "p", "note", "runs_a", "runs_b"]  # fmt: skip
Item = TypeVar("Item")


@dataclass(frozen=True)
class Comparison:
    """Runs whose config has all of ``a``'s values against those with all of ``b``'s, separately per value of ``within``."""

    name: str
    a: dict[str, Any]
    b: dict[str, Any]
    within: tuple[str, ...] = ()


def parse_comparison(item: Any, where: str = "comparison") -> Comparison:
    """A comparison from its plain form ({name, a, b, within}; a and b nested or dotted); ValueError naming what is wrong."""
    if isinstance(item, Comparison):
        return item
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with name, a and b, got {item!r}")
    unknown = sorted(set(item) - {"name", "a", "b", "within"})
    missing = [key for key in ("name", "a", "b") if key not in item]
    problems = [f"missing {', '.join(missing)}"] if missing else []
    problems += [f"unknown key(s) {', '.join(unknown)} (expected name, a, b, within)"] if unknown else []
    if problems:
        raise ValueError(f"{where}: {'; '.join(problems)}")
    sides = {}
    for side in ("a", "b"):
        if not isinstance(item[side], Mapping) or not item[side]:
            raise ValueError(f"{where} ({item['name']}): {side} must map config keys to values, e.g. {{model.neuron.kind: plif}}")
        sides[side] = flatten(item[side])
    within = item.get("within") or []
    within = [within] if isinstance(within, str) else within
    if not isinstance(within, list) or not all(isinstance(key, str) for key in within):
        raise ValueError(f"{where} ({item['name']}): within must be a list of config keys, got {within!r}")
    return Comparison(str(item["name"]), sides["a"], sides["b"], tuple(within))


def load_comparisons(path: str | os.PathLike[str]) -> list[Comparison]:
    """The comparisons of a sweep file (its ``comparisons:`` list) or of a file holding just the list."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from error
    items = data.get("comparisons") if isinstance(data, Mapping) else data
    if not isinstance(items, (list, type(None))):
        raise ValueError(f"{path}: comparisons must be a list of {{name, a, b, within}}, got {type(items).__name__}")
    return [parse_comparison(item, f"{path}: comparison {i + 1}") for i, item in enumerate(items or [])]


def find_sweep_file(run_folders: Sequence[str | os.PathLike[str]]) -> Path | None:
    """The sweep.yaml beside the runs (their common folder or its parent), None when there is none.

    Looking no higher keeps an unrelated sweep.yaml further up the tree from lending its comparisons.
    """
    if not run_folders:
        return None
    common = Path(os.path.commonpath([Path(folder).resolve() for folder in run_folders]))
    return next((folder / SWEEP_FILE for folder in (common, common.parent) if (folder / SWEEP_FILE).is_file()), None)


def _same(actual: Any, wanted: Any) -> bool:
    """Config value equals a comparison's value; a number also matches its text (YAML reads 1e-3 as a string)."""
    if actual == wanted:
        return True
    if isinstance(actual, str) == isinstance(wanted, str):
        return False
    try:
        return float(actual) == float(wanted)
    except (TypeError, ValueError):
        return False


def _flat_config(item: RunRecords | Mapping[str, Any]) -> dict[str, Any]:
    """A run's config, or a table row's configuration, as dotted keys."""
    return flatten(item.config) if isinstance(item, RunRecords) else item["config"]


def matches(item: RunRecords | Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Whether a run (or a row of ``collect_rows``) has every value of ``where`` (dotted or nested keys)."""
    config = _flat_config(item)
    return all(key in config and _same(config[key], value) for key, value in flatten(where).items())


def select(items: Iterable[Item], where: Mapping[str, Any]) -> list[Item]:
    """The runs (or rows of ``collect_rows``) having every value of ``where``, e.g. {"model.neuron.kind": "plif"}."""
    return [item for item in items if matches(item, where)]


def group_by(runs: Iterable[RunRecords], keys: Sequence[str]) -> list[tuple[dict[str, Any], list[RunRecords]]]:
    """The runs split by their config values of ``keys`` ({key: value}, runs), in first-seen order; one empty group for no runs."""
    groups: dict[str, tuple[dict[str, Any], list[RunRecords]]] = {}
    for run in runs:
        config = flatten(run.config)
        group = {key: config.get(key) for key in keys}
        groups.setdefault(describe(group), (group, []))[1].append(run)
    return list(groups.values()) or [({}, [])]


@dataclass(frozen=True)
class ComparisonResult:
    """One comparison in one ``within`` group: the runs of each side and the difference of their metric."""

    name: str
    group: dict[str, Any]
    a: dict[str, Any]
    b: dict[str, Any]
    difference: Difference
    runs_a: list[str]
    runs_b: list[str]
    note: str

    def record(self) -> dict[str, Any]:
        """The result as one flat dict (COLUMNS), for CSV and for code that wants plain values."""
        d = self.difference
        return {
            "name": self.name, "within": describe(self.group), "a": describe(self.a), "b": describe(self.b),
            "n_a": d.a.n, "n_b": d.b.n, "mean_a": d.a.mean, "mean_b": d.b.mean, "std_a": d.a.std, "std_b": d.b.std,
            "diff": d.diff, "ci_low": d.ci_low, "ci_high": d.ci_high, "df": d.df, "t": d.t, "p": d.p,
            "note": self.note, "runs_a": self.runs_a, "runs_b": self.runs_b,
        }  # fmt: skip


def _side_notes(side: str, spec: Mapping[str, Any], runs: list[RunRecords], values: list[float | None], everyone: list[RunRecords]) -> list[str]:
    """Why a side has fewer values than runs, or none at all."""
    if not runs:
        absent = [key for key in spec if not any(key in flatten(run.config) for run in everyone)]
        return [f"side {side} matches no run" + (f" (no run has {', '.join(absent)})" if absent else "")]
    missing = [run.path.name for run, value in zip(runs, values, strict=True) if value is None]
    return [f"side {side}: {len(missing)} of {len(runs)} runs without a value ({', '.join(missing)})"] if missing else []


def _compare_group(comparison: Comparison, group: dict[str, Any], runs: list[RunRecords], everyone: list[RunRecords], metric: RunMetric) -> ComparisonResult:
    """One comparison among the runs of one ``within`` group."""
    sides = {side: select(runs, spec) for side, spec in (("a", comparison.a), ("b", comparison.b))}
    values = {side: [metric_value(run, metric) for run in sides[side]] for side in sides}
    difference = welch(*([v for v in values[side] if v is not None] for side in ("a", "b")))
    notes = [note for side, spec in (("a", comparison.a), ("b", comparison.b)) for note in _side_notes(side, spec, sides[side], values[side], everyone)]
    both = [run for run in sides["a"] if any(run is other for other in sides["b"])]
    if both:
        notes.append(f"{len(both)} run(s) match both sides")
    protocols = sorted({run_protocol(run) for side in sides.values() for run in side})
    if len(protocols) > 1:
        notes.append(f"runs of protocols {' and '.join(protocols)} mixed (add protocol to within)")
    return ComparisonResult(comparison.name, group, comparison.a, comparison.b, difference,
                            [str(run.path) for run in sides["a"]], [str(run.path) for run in sides["b"]],
                            "; ".join(filter(None, [*notes, difference.note])))  # fmt: skip


def compare(
    runs: Iterable[RunRecords | str | os.PathLike[str]],
    comparisons: Iterable[Comparison | Mapping[str, Any]],
    metric: RunMetric = reported_accuracy,
) -> list[ComparisonResult]:
    """Each comparison (per ``within`` group, in first-seen order) of the runs' ``metric``: means, a - b, its CI, Welch's p."""
    everyone = load_runs(runs)
    results = []
    for i, item in enumerate(comparisons):
        comparison = parse_comparison(item, f"comparison {i + 1}")
        involved = [run for run in everyone if matches(run, comparison.a) or matches(run, comparison.b)]
        for group, members in group_by(involved, comparison.within):
            results.append(_compare_group(comparison, group, members, everyone, metric))
    return results


def format_comparisons(results: Sequence[ComparisonResult], source: str | os.PathLike[str] | None = None) -> str:
    """The comparisons as a Markdown table of reported accuracies in %: means, a - b with its CI, and p."""
    origin = f" (from {source})" if source else ""
    lines = [f"Comparisons{origin}: accuracies in %; a - b with its {CONFIDENCE:.0%} confidence interval "
             "(Welch–Satterthwaite degrees of freedom) and Welch's two-sided p-value.", "",
             *markdown_header(["comparison", "within", "a", "b", "n a", "n b", "mean a (%)", "mean b (%)", "a - b (%) [CI]", "p", "note"])]  # fmt: skip
    for result in results:
        d = result.difference
        interval = "-" if d.ci_low is None else f"{percent_or_dash(d.ci_low)}, {percent_or_dash(d.ci_high)}"
        cells = [result.name, describe(result.group) or "-", describe(result.a), describe(result.b), str(d.a.n), str(d.b.n),
                 percent_or_dash(d.a.mean), percent_or_dash(d.b.mean), f"{percent_or_dash(d.diff)} [{interval}]",
                 "-" if d.p is None else f"{d.p:.3g}", result.note]  # fmt: skip
        lines.append(markdown_row(cells))
    return "\n".join(lines) + "\n"


def write_comparisons_csv(results: Sequence[ComparisonResult], path: str | os.PathLike[str]) -> Path:
    """The comparisons as CSV (COLUMNS; metric values as they are, empty where undefined), written atomically."""
    return write_records_csv([result.record() for result in results], COLUMNS, path)

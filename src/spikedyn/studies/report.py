"""A study's report: study.md (each claim with its numbers and verdict), the table (md, csv) and the figures.

Everything is computed from the run folders at the time of writing, so writing it again after
more runs finished gives the fuller report; files are replaced atomically.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.save import save_figure
from spikedyn.analysis.statistics import CONFIDENCE, holm
from spikedyn.analysis.tables import collect_rows, describe, markdown_header, markdown_row, write_records_csv
from spikedyn.atomic import write_bytes_atomically
from spikedyn.studies.claims import HOLDS, CheckResult, claim_verdict, evaluate_claim
from spikedyn.studies.figures import curves_figure, means_figure
from spikedyn.studies.study import Study

STUDY_FILE, TABLE, FIGURES = "study.md", "table", "figures"
STATS = ("mean", "std", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class Context:
    """Where and how the study ran, for its report's header."""

    budget: str
    command: str
    runs_folder: Path  # relative to the study's folder: where the runs' records are
    expected_runs: int
    machine: str  # the machine the study was trained on


def value_text(value: float | None, unit: str, signed: bool = False) -> str:
    """A metric value as the report shows it: fractions with unit "%" in percent, others with 3 decimals."""
    if value is None:
        return "-"
    shown = 100 * value if unit == "%" else value
    return f"{shown:+.2f}" if signed and unit == "%" else f"{shown:.2f}" if unit == "%" else f"{shown:+.3f}" if signed else f"{shown:.3f}"


def difference_unit(unit: str) -> str:
    """The unit of a difference: percentage points for a percentage."""
    return "pp" if unit == "%" else unit


def machine() -> str:
    """The CPU, core count, Python and torch this report was written with."""
    import torch

    from spikedyn import __version__

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            model = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), model)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, Python {platform.python_version()}, torch {torch.__version__}, spikedyn {__version__}"


def threads_text(runs: Sequence[RunRecords]) -> str:
    """How many torch threads the runs trained with, from their summaries (results depend on it: float reductions)."""
    counts = sorted({run.summary.get("torch_threads") for run in runs}, key=str)
    if counts == [None] or not counts:
        return "torch threads per run not recorded"
    return f"{' or '.join(str(count) for count in counts)} torch thread{'s' * (counts != [1])} per run"


def _row_label(row: Mapping[str, Any]) -> str:
    return f"{row['name']} [{row['variant']}]" if row["variant"] else row["name"]


def _stat_cell(row: Mapping[str, Any], metric: str, unit: str) -> str:
    """"mean ± std [low, high] (n=k)" in the metric's unit."""
    if row[f"{metric}_mean"] is None:
        return "-"
    low, high = row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
    interval = "-" if low is None else f"{value_text(low, unit)}, {value_text(high, unit)}"
    return f"{value_text(row[f'{metric}_mean'], unit)} ± {value_text(row[f'{metric}_std'], unit)} [{interval}] (n={row[f'{metric}_n']})"


def format_table(rows: Sequence[Mapping[str, Any]], units: Mapping[str, str]) -> str:
    """One Markdown table: a row per configuration, each metric as mean ± sample std [95% CI] (n)."""
    titles = ["configuration", "n", "seeds", *(f"{metric} ({unit})" for metric, unit in units.items()), "note"]
    lines = [f"Each metric: mean ± sample std [{CONFIDENCE:.0%} confidence interval of the mean, t distribution] (n runs with a value).", ""]
    lines += markdown_header(titles)
    for row in rows:
        cells = [_row_label(row), str(row["n"]), ", ".join(map(str, row["seeds"]))]
        lines.append(markdown_row(cells + [_stat_cell(row, metric, unit) for metric, unit in units.items()] + [row["note"] or ""]))
    return "\n".join(lines) + "\n"


def format_check(result: CheckResult, unit: str, adjusted: float | None = None) -> str:
    """One row of a claim's table: the check, its group, the estimate with its interval, p (raw, Holm), n per term and the verdict."""
    c, check = result.contrast, result.check
    interval = "-" if c.ci_low is None else f"{value_text(c.ci_low, unit, True)}, {value_text(c.ci_high, unit, True)}"
    margin = f"{value_text(check.margin, unit)} {difference_unit(unit)}".rstrip()
    expected = {"positive": "> 0", "negative": "< 0", "equivalent": f"within ±{margin}", "noninferior": f"> -{margin}"}[check.expect]
    if check.margin and check.expect in ("positive", "negative"):
        expected += f", by {margin} or more"
    notes = "; ".join(result.notes)
    cells = [check.label, describe(result.group) or "-", f"{value_text(c.estimate, unit, True)} [{interval}] {difference_unit(unit)}",
             "-" if c.p is None else f"{c.p:.3g}", "-" if adjusted is None else f"{adjusted:.3g}",
             ", ".join(str(s.n) for s in c.summaries), expected,
             f"**{result.verdict}**: {result.reason}" + (f" ({notes})" if notes else "")]  # fmt: skip
    return markdown_row(cells)


def survival(results: Sequence[CheckResult], adjusted: Sequence[float | None]) -> str:
    """Which checks that hold keep their significance once the claim's checks are Holm-adjusted (directional ones; an
    equivalence or a non-inferiority is decided by its interval alone)."""
    held = [(result, p) for result, p in zip(results, adjusted, strict=True) if result.verdict == HOLDS and result.check.expect in ("positive", "negative")]
    if not held:
        return f"Multiple comparisons: no directional check holds, so none needs Holm's correction over this claim's {len(results)} checks."
    kept = [result for result, p in held if p is not None and p < 1 - CONFIDENCE]
    lost = [f"{result.check.label} ({describe(result.group) or 'all'})" for result, p in held if p is None or p >= 1 - CONFIDENCE]
    text = (f"Multiple comparisons: of the {len(held)} directional check{'s' * (len(held) > 1)} that hold, {len(kept)} keep "
            f"Holm-adjusted p < {1 - CONFIDENCE:.2g} over this claim's {len(results)} checks")  # fmt: skip
    return text + (f"; not: {'; '.join(lost)}." if lost else ".")


def format_claims(study: Study, runs: Sequence[RunRecords]) -> tuple[str, list[tuple[str, str]]]:
    """The claims section of study.md, and (claim key, verdict) for each claim."""
    sections, verdicts = [], []
    titles = ["check", "within", f"estimate [{CONFIDENCE:.0%} CI]", "p (Welch)", "p (Holm)", "n per term", "the claim expects", "verdict"]
    for number, claim in enumerate(study.claims, 1):
        results = evaluate_claim(claim, runs, study.metrics)
        if runs and not any(any(result.runs) for result in results):
            verdicts.append((claim.key, "not tested"))
            sections.append(f"### {number}. `{claim.key}`: not tested\n\n> {claim.statement}\n\nThis budget trains no run that the "
                            "claim is about (its checks name other data).\n")  # fmt: skip
            continue
        adjusted = holm([result.contrast.p for result in results])
        verdict = claim_verdict(results)
        verdicts.append((claim.key, verdict))
        lines = [f"### {number}. `{claim.key}`: {verdict}", "", f"> {claim.statement}", ">", f"> {claim.source}", ""]
        if claim.note:
            lines += [f"How it is read here: {claim.note}", ""]
        lines += markdown_header(titles)
        lines += [format_check(result, study.units.get(result.check.metric, ""), p) for result, p in zip(results, adjusted, strict=True)]
        lines += ["", survival(results, adjusted)]
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections), verdicts


def _figures(study: Study, runs: Sequence[RunRecords], rows: Sequence[Mapping[str, Any]], folder: Path) -> list[Path]:
    """Draw and save the study's figures (PNG and SVG) into ``folder``; the PNG paths."""
    used = {check.metric for claim in study.claims for check in claim.checks}
    metrics = {metric: unit for metric, unit in study.units.items() if metric in used}
    drawn = [("means", means_figure(rows, metrics, [_row_label(row) for row in rows]))]
    drawn += [(curves.name, curves_figure(runs, curves)) for curves in study.curves]
    return [save_figure(figure, folder / name)[0] for name, figure in drawn]


def write_report(study: Study, runs: Sequence[RunRecords], folder: str | os.PathLike[str], context: Context) -> Path:
    """Write study.md, table.md, table.csv and figures/ into ``folder`` from the runs; the path of study.md."""
    folder = Path(folder)
    rows = collect_rows(runs, study.metrics, fractions=[metric for metric, unit in study.units.items() if unit == "%"])
    for row in rows:
        row["runs"] = [os.path.relpath(path, folder) for path in row["runs"]]
    table = format_table(rows, study.units)
    write_bytes_atomically(folder / f"{TABLE}.md", table.encode("utf-8"), durable=False)
    columns = ["protocol", "name", "variant", "n", "seeds"] + [f"{metric}_{stat}" for metric in study.metrics for stat in STATS] + ["note", "runs"]
    write_records_csv(rows, columns, folder / f"{TABLE}.csv")
    figures = _figures(study, runs, rows, folder / FIGURES) if runs else []
    claims, verdicts = format_claims(study, runs)
    budget = study.budget(context.budget)
    completed = sum(run.summary.get("status") == "completed" for run in runs)
    hours = sum(float(run.summary.get("wall_time_s") or 0) for run in runs) / 3600
    lines = [
        f"# {study.title}", "", f"Study `{study.name}`, {context.budget} budget. {study.question}", "",
        f"- Command: `{context.command}`",
        f"- Machine: {context.machine}; {threads_text(runs)}",
        f"- Runs: {completed} of {context.expected_runs} completed, in `{context.runs_folder}` "
        f"({hours:.2f} h of training summed over runs); {budget.description}",
        f"- Verdicts: {'; '.join(f'`{key}` {verdict}' for key, verdict in verdicts)}", "",
        "## Design", "", study.design, "",
        "A claim *holds* when the 95% confidence interval of its contrast lies wholly on the side the claim states, beyond "
        "the smallest effect its words imply where it names one (the interval's near end exceeds that margin); it *does not "
        "hold* when it lies wholly on the other side of 0 (or, for a claim of a large effect, wholly short of it; for a claim "
        "of no effect, wholly outside its margin), and is *inconclusive at this n* otherwise. Intervals and p-values are "
        "Welch's (Welch–Satterthwaite degrees of freedom), over independent seeds; each check's interval is at 95% on its "
        "own, and the Holm-adjusted p beside its raw p says which directional verdicts survive the claim's multiple "
        "comparisons (each claim's section says which). Per-configuration intervals of an accuracy are clipped to [0, 100]%.", "",
        "## Claims", "", claims,
        "## Results", "", f"Per configuration ([{TABLE}.md]({TABLE}.md), [{TABLE}.csv]({TABLE}.csv)):", "", table,
        "## Figures", "", *(f"![{path.stem}]({FIGURES}/{path.name})" for path in figures), "",
    ]  # fmt: skip
    return write_bytes_atomically(folder / STUDY_FILE, "\n".join(lines).encode("utf-8"), durable=False)

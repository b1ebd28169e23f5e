"""A seed paper's claim, put to the test: contrasts of configuration means with a confidence interval, and a verdict.

A claim is tested by one or more checks. A check is a linear contrast of the mean of a
metric over the runs of a few configurations (each picked by config values), e.g.
``LIF(tau=2) - LIF(tau=16)``, or the difference of two such differences. Its verdict compares
the contrast's 95% confidence interval (Welch–Satterthwaite) with what the claim says:

- ``expect="positive"`` (or ``"negative"``): the claim says the contrast is above (below) 0,
  by at least ``margin`` (the smallest effect the claim's words imply, e.g. 1 percentage point
  for "degrades badly"; 0 for a plain direction). It *holds* when the interval lies wholly
  beyond the margin on that side (its near end exceeds the margin), *does not hold* when it
  lies wholly on the other side of 0 or wholly short of the margin, and is *inconclusive at
  this n* otherwise (it reaches across 0, or across the margin).
- ``expect="equivalent"``: the claim says the contrast is negligible, within ±``margin``. It
  holds when the interval lies within ±margin, does not hold when it lies wholly outside,
  and is inconclusive otherwise.
- ``expect="noninferior"``: the claim says the contrast does not fall below -``margin`` (a
  change does not cost more than the margin). It holds when the interval lies wholly above
  -margin, does not hold when it lies wholly below, and is inconclusive otherwise.

The margins are declared with the claims, before any run, and printed beside each verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spikedyn.analysis.comparisons import group_by, select
from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.statistics import Contrast, contrast
from spikedyn.analysis.tables import RunMetric, describe, flatten, metric_value

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive at this n"
EXPECTATIONS = ("positive", "negative", "equivalent", "noninferior")


@dataclass(frozen=True)
class Check:
    """One contrast of configuration means that the claim predicts the sign (or smallness) of."""

    label: str
    terms: tuple[tuple[float, Mapping[str, Any]], ...]  # (coefficient, config values picking the runs)
    expect: str
    metric: str = "accuracy"
    margin: float = 0.0
    within: tuple[str, ...] = ()  # tested separately for each value of these config keys
    exclude: tuple[Mapping[str, Any], ...] = ()  # runs with all the values of any of these are left out

    def __post_init__(self) -> None:
        if self.expect not in EXPECTATIONS:
            raise ValueError(f"check {self.label!r}: expect must be one of {', '.join(EXPECTATIONS)}, got {self.expect!r}")
        if self.margin < 0 or (self.expect in ("equivalent", "noninferior") and self.margin == 0):
            raise ValueError(f"check {self.label!r}: margin must be >= 0, and > 0 for an equivalence or non-inferiority, got {self.margin}")
        if not self.terms:
            raise ValueError(f"check {self.label!r}: needs at least one (coefficient, config values) term")


@dataclass(frozen=True)
class Claim:
    """A claim as its paper states it, where it states it, and the checks that test it."""

    key: str
    statement: str
    source: str
    checks: tuple[Check, ...]
    note: str = ""  # how the claim is read here, where that needs saying


@dataclass(frozen=True)
class CheckResult:
    """A check within one group of runs: the contrast, the runs it used and the verdict."""

    check: Check
    group: dict[str, Any]
    contrast: Contrast
    runs: tuple[tuple[str, ...], ...]
    verdict: str
    reason: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def verdict(check: Check, result: Contrast) -> tuple[str, str]:
    """(verdict, why) for a check's contrast, from where its confidence interval lies (the report shows the margin in its unit)."""
    if result.ci_low is None or result.ci_high is None:
        return INCONCLUSIVE, result.note or "no confidence interval"
    low, high, margin = result.ci_low, result.ci_high, check.margin
    if check.expect == "equivalent":
        if -margin < low and high < margin:
            return HOLDS, "the interval lies within the margin"
        if low > margin or high < -margin:
            return FAILS, "the interval lies wholly outside the margin"
        return INCONCLUSIVE, "the interval reaches beyond the margin, but not wholly"
    if check.expect == "noninferior":
        if low > -margin:
            return HOLDS, "the interval lies wholly above minus the margin"
        if high < -margin:
            return FAILS, "the interval lies wholly below minus the margin"
        return INCONCLUSIVE, "the interval reaches below minus the margin, but not wholly"
    sign = 1.0 if check.expect == "positive" else -1.0
    low, high = sorted((sign * low, sign * high))
    side = "above" if sign > 0 else "below"
    if high < 0:
        return FAILS, f"the interval lies wholly {'below' if sign > 0 else 'above'} 0, against the claim"
    if margin > 0 and high < margin:
        return FAILS, "the interval lies wholly short of the claimed effect"
    if low > margin:
        return HOLDS, f"the interval lies wholly {side} the claimed effect" if margin > 0 else f"the interval lies wholly {side} 0"
    if low > 0:
        return INCONCLUSIVE, "the interval lies above 0 but reaches below the claimed effect" if sign > 0 else "the interval lies below 0 but reaches above the claimed effect"
    return INCONCLUSIVE, "the interval contains 0"


def run_check(check: Check, runs: Sequence[RunRecords], metrics: Mapping[str, RunMetric]) -> list[CheckResult]:
    """The check on each ``within`` group of the runs that any of its terms picks."""
    if check.metric not in metrics:
        raise KeyError(f"check {check.label!r} uses the metric {check.metric!r}; the study has {', '.join(metrics)}")
    metric = metrics[check.metric]
    kept = [run for run in runs if not any(select([run], where) for where in check.exclude)]
    involved = [run for run in kept if any(select([run], where) for _, where in check.terms)]
    results = []
    for group, members in group_by(involved, check.within):
        picked = [select(members, where) for _, where in check.terms]
        values = [[v for v in (metric_value(run, metric) for run in term_runs) if v is not None] for term_runs in picked]
        notes = [f"{describe(flatten(where))}: {len(term_runs) - len(vals)} of {len(term_runs)} runs have no {check.metric}"
                 for (_, where), term_runs, vals in zip(check.terms, picked, values, strict=True) if len(vals) < len(term_runs)]  # fmt: skip
        notes += [f"no run has {describe(flatten(where))}" for (_, where), term_runs in zip(check.terms, picked, strict=True) if not term_runs]
        result = contrast(values, [coefficient for coefficient, _ in check.terms])
        decision, reason = verdict(check, result)
        paths = tuple(tuple(str(run.path) for run in term_runs) for term_runs in picked)
        results.append(CheckResult(check, group, result, paths, decision, reason, tuple(notes)))
    return results


def claim_verdict(results: Iterable[CheckResult]) -> str:
    """One verdict for a claim: the verdict all its checks share, else how many checks give each ("mixed: holds 3, ... of 6")."""
    results = list(results)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.verdict] = counts.get(result.verdict, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return "mixed: " + ", ".join(f"{verdict} {count}" for verdict, count in counts.items()) + f" of {len(results)} checks"


def evaluate_claim(claim: Claim, runs: Sequence[RunRecords], metrics: Mapping[str, RunMetric]) -> list[CheckResult]:
    """Every check of the claim on the runs."""
    return [result for check in claim.checks for result in run_check(check, runs, metrics)]



def difference(label: str, a: Mapping[str, Any], b: Mapping[str, Any], expect: str, metric: str = "accuracy", margin: float = 0.0,
               within: tuple[str, ...] = (), exclude: tuple[Mapping[str, Any], ...] = ()) -> Check:  # fmt: skip
    """The check mean(a) - mean(b) of the runs with config values ``a`` and those with ``b``."""
    return Check(label, ((1.0, a), (-1.0, b)), expect, metric, margin, within, exclude)

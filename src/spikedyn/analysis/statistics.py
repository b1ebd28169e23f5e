"""Statistics over seeds: a sample's mean, std and t confidence interval, and Welch's comparison of two samples."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """A sample's count, mean, sample std and confidence interval of the mean (None where undefined)."""

    n: int
    mean: float | None = None
    std: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


def summarize(values: Sequence[float], confidence: float = CONFIDENCE, bounds: tuple[float, float] | None = None) -> Summary:
    """Mean, sample std and the t interval mean ± t_{(1+c)/2, n-1} s / sqrt(n); std and interval need two values.

    ``bounds``: the range the quantity cannot leave (an accuracy's [0, 1]); the interval is
    clipped to it, since no value outside it is plausible.
    """
    n = len(values)
    if n == 0:
        return Summary(0)
    mean = statistics.fmean(values)
    if n < 2:
        return Summary(n, mean)
    std = statistics.stdev(values)
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * std / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Summary(n, mean, std, low, high)


@dataclass(frozen=True)
class Contrast:
    """sum_i c_i mean(sample_i) with its Welch–Satterthwaite interval and two-sided p-value (None where undefined, and a note why)."""

    coefficients: tuple[float, ...]
    summaries: tuple[Summary, ...]
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    df: float | None = None
    t: float | None = None
    p: float | None = None
    note: str = ""


def contrast(
    samples: Sequence[Sequence[float]], coefficients: Sequence[float], confidence: float = CONFIDENCE, names: Sequence[str] | None = None
) -> Contrast:
    """A linear contrast of independent samples' means, e.g. (1, -1, -1, 1) for a difference of differences.

    Each mean is an independent estimate with variance s_i^2 / n_i, so the contrast has
    variance sum c_i^2 s_i^2 / n_i and, by Satterthwaite, df = var^2 / sum (c_i^2 s_i^2 / n_i)^2 / (n_i - 1);
    for (1, -1) this is exactly Welch's test. ``names`` name the samples in notes ("side a").
    """
    if len(samples) != len(coefficients) or not samples:
        raise ValueError(f"a contrast needs one coefficient per sample, got {len(coefficients)} for {len(samples)} samples")
    unit = "side" if names else "sample"
    labels = [f"{unit} {name}" for name in (names or range(1, len(samples) + 1))]
    summaries = tuple(summarize(sample, confidence) for sample in samples)
    coefficients = tuple(float(c) for c in coefficients)
    empty = [label for label, s in zip(labels, summaries, strict=True) if s.mean is None]
    if empty:
        return Contrast(coefficients, summaries, note=f"no value on {' and '.join(empty)}: nothing to compare")
    estimate = sum(c * s.mean for c, s in zip(coefficients, summaries, strict=True))
    few = [f"{label} has {s.n} value" for label, s in zip(labels, summaries, strict=True) if s.std is None]
    if few:
        return Contrast(coefficients, summaries, estimate, note=f"{'; '.join(few)}: no interval or p-value (Welch's test needs 2 values per {unit})")
    parts = [c * c * s.std**2 / s.n for c, s in zip(coefficients, summaries, strict=True)]
    variance = sum(parts)
    if variance == 0:
        return Contrast(coefficients, summaries, estimate, note=f"no spread within any {unit}: no interval or p-value")
    df = variance**2 / sum(part**2 / (s.n - 1) for part, s in zip(parts, summaries, strict=True) if part)
    error = math.sqrt(variance)
    half = stats.t.ppf((1 + confidence) / 2, df) * error
    t = estimate / error
    return Contrast(coefficients, summaries, estimate, estimate - half, estimate + half, df, t, float(2 * stats.t.sf(abs(t), df)))


@dataclass(frozen=True)
class Difference(Contrast):
    """mean(a) - mean(b): the contrast (1, -1) of two samples, with its interval and Welch's two-sided test."""

    @property
    def a(self) -> Summary:
        return self.summaries[0]

    @property
    def b(self) -> Summary:
        return self.summaries[1]

    @property
    def diff(self) -> float | None:
        return self.estimate


def welch(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """Compare two samples of unequal variance: the difference of means, its Welch–Satterthwaite interval and p-value."""
    result = contrast([a, b], [1.0, -1.0], confidence, names=("a", "b"))
    return Difference(**{field.name: getattr(result, field.name) for field in dataclasses.fields(result)})


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None where a test has none, left out of the family).

    Sorted ascending, the i-th smallest of m becomes max_{j <= i} min(1, (m - j + 1) p_(j)): a
    check survives the family's multiple comparisons at level a when its adjusted p is below a.
    """
    order = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[index] = running
    return adjusted

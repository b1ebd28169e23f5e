"""Statistics over seeds: the t interval of a mean and Welch's test, checked against hand formulas and a textbook example."""

import math
import statistics

import pytest
from scipy import stats

from spikedyn.analysis.statistics import Summary, contrast, summarize, welch


def t_975(df: int) -> float:
    """The 97.5% quantile of Student's t in closed form, for 1 and 2 degrees of freedom."""
    return {1: math.tan(0.475 * math.pi), 2: 0.95 / math.sqrt(2 * 0.975 * 0.025)}[df]


@pytest.mark.parametrize("values", [[0.88, 0.92], [0.81, 0.86, 0.83]])
def test_the_interval_of_a_mean_is_mean_plus_minus_t_times_s_over_root_n(values):
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_975(n - 1) * s / math.sqrt(n)
    summary = summarize(values)
    assert (summary.n, summary.mean, summary.std) == (n, pytest.approx(mean), pytest.approx(s))
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(mean - half), pytest.approx(mean + half))


def test_one_value_has_a_mean_but_no_std_or_interval_and_none_has_nothing():
    assert summarize([0.7]) == Summary(n=1, mean=0.7, std=None, ci_low=None, ci_high=None)
    assert summarize([]).n == 0 and summarize([]).mean is None


def welch_by_hand(a, b):
    """(a - b, t, Welch–Satterthwaite df, two-sided p, half width of the 95% interval) from the textbook formulas."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.fmean(a) - statistics.fmean(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = diff / math.sqrt(va + vb)
    return diff, t, df, 2 * stats.t.sf(abs(t), df), stats.t.ppf(0.975, df) * math.sqrt(va + vb)


def test_welch_matches_the_hand_formula_and_the_t_distribution():
    a, b = [0.91, 0.93, 0.90, 0.95], [0.86, 0.89, 0.84]
    diff, t, df, p, half = welch_by_hand(a, b)
    result = welch(a, b)
    assert (result.diff, result.t, result.df) == (pytest.approx(diff), pytest.approx(t), pytest.approx(df))
    assert result.p == pytest.approx(p)
    assert (result.ci_low, result.ci_high) == (pytest.approx(diff - half), pytest.approx(diff + half))
    assert (result.a.n, result.b.n, result.note) == (4, 3, "")


def test_welch_reproduces_a_textbook_example():
    # Wikipedia, "Welch's t-test", Examples, first pair of samples: t = -2.46, p = 0.021
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    result = welch(a1, a2)
    assert result.t == pytest.approx(-2.46, abs=0.005) and result.p == pytest.approx(0.021, abs=0.0005)


@pytest.mark.parametrize(
    ("a", "b", "note"),
    [
        ([], [0.8, 0.9], "no value on side a: nothing to compare"),
        ([0.9], [0.8, 0.7], "side a has 1 value: no interval or p-value (Welch's test needs 2 values per side)"),
        ([0.9, 0.9], [0.8, 0.8], "no spread within any side: no interval or p-value"),
    ],
)
def test_too_few_values_or_no_spread_give_a_note_instead_of_an_interval(a, b, note):
    result = welch(a, b)
    assert result.note == note and result.ci_low is None and result.p is None and result.t is None
    assert result.diff == (pytest.approx(statistics.fmean(a) - statistics.fmean(b)) if a else None)


def test_a_two_sample_contrast_is_welchs_test():
    a, b = [0.91, 0.93, 0.90, 0.95], [0.86, 0.89, 0.84]
    result, reference = contrast([a, b], [1, -1]), welch(a, b)
    assert (result.estimate, result.df, result.t, result.p) == pytest.approx((reference.diff, reference.df, reference.t, reference.p))
    assert (result.ci_low, result.ci_high) == pytest.approx((reference.ci_low, reference.ci_high))


def test_a_difference_of_differences_matches_the_satterthwaite_formula():
    samples = [[0.90, 0.92, 0.91], [0.60, 0.70, 0.65, 0.62], [0.93, 0.94, 0.92], [0.90, 0.91, 0.93]]
    coefficients = [1, -1, -1, 1]
    parts = [statistics.variance(s) / len(s) for s in samples]
    estimate = sum(c * statistics.fmean(s) for c, s in zip(coefficients, samples))
    df = sum(parts) ** 2 / sum(part**2 / (len(s) - 1) for part, s in zip(parts, samples))
    half = stats.t.ppf(0.975, df) * math.sqrt(sum(parts))
    result = contrast(samples, coefficients)
    assert (result.estimate, result.df) == (pytest.approx(estimate), pytest.approx(df))
    assert (result.ci_low, result.ci_high) == (pytest.approx(estimate - half), pytest.approx(estimate + half))
    assert result.p == pytest.approx(2 * stats.t.sf(abs(estimate) / math.sqrt(sum(parts)), df))


def test_a_contrast_says_why_it_has_no_interval():
    assert "1 value" in contrast([[0.9], [0.8, 0.7]], [1, -1]).note and contrast([[0.9], [0.8, 0.7]], [1, -1]).estimate == pytest.approx(0.15)
    assert "no value" in contrast([[], [0.8, 0.7]], [1, -1]).note
    assert "no spread" in contrast([[0.5, 0.5], [0.4, 0.4]], [1, -1]).note
    with pytest.raises(ValueError, match="one coefficient per sample"):
        contrast([[0.5, 0.6]], [1, -1])

"""Claims are tested by contrasts of configuration means; the verdict follows where the confidence interval lies."""

import statistics
from pathlib import Path

import pytest

from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.statistics import Contrast
from spikedyn.studies.claims import FAILS, HOLDS, INCONCLUSIVE, Check, Claim, claim_verdict, difference, evaluate_claim, run_check, verdict

METRICS = {"accuracy": lambda run: run.summary.get("acc")}


def run(kind, tau, dataset, acc, seed):
    """A run record with just what claims read: its config values and its accuracy."""
    config = {"seed": seed, "data": {"dataset": dataset}, "model": {"neuron": {"kind": kind, "tau": tau}}}
    return RunRecords(Path(f"/runs/{kind}-{tau}-{dataset}-{seed}"), "r", [], {"acc": acc}, config)


def interval(low, high):
    return Contrast((1.0, -1.0), (), (low + high) / 2, low, high)


@pytest.mark.parametrize(
    ("expect", "margin", "low", "high", "wanted"),
    [
        ("positive", 0.0, 0.01, 0.05, HOLDS),
        ("positive", 0.0, -0.05, -0.01, FAILS),
        ("positive", 0.0, -0.01, 0.05, INCONCLUSIVE),
        ("negative", 0.0, -0.05, -0.01, HOLDS),
        ("negative", 0.0, 0.01, 0.05, FAILS),
        ("positive", 0.01, 0.002, 0.008, FAILS),  # real, but short of the effect the claim states
        ("positive", 0.01, 0.002, 0.03, INCONCLUSIVE),  # above 0, but not surely by the claimed effect
        ("positive", 0.01, 0.001, 0.011, INCONCLUSIVE),  # the issue's [+0.1, +1.1] pp against a 1 pp effect
        ("positive", 0.01, 0.001, 0.009, FAILS),  # [+0.1, +0.9] pp: wholly short of 1 pp
        ("positive", 0.01, 0.012, 0.03, HOLDS),  # the near end exceeds the claimed effect
        ("negative", 0.01, -0.03, -0.012, HOLDS),
        ("negative", 0.01, -0.03, -0.002, INCONCLUSIVE),
        ("negative", 0.01, -0.008, -0.002, FAILS),
        ("equivalent", 0.01, -0.005, 0.008, HOLDS),
        ("equivalent", 0.01, 0.012, 0.03, FAILS),
        ("equivalent", 0.01, -0.03, -0.02, FAILS),
        ("equivalent", 0.01, -0.002, 0.02, INCONCLUSIVE),
    ],
)
def test_the_verdict_follows_where_the_interval_lies(expect, margin, low, high, wanted):
    check = Check("c", ((1.0, {"a": 1}), (-1.0, {"a": 2})), expect, margin=margin)
    assert verdict(check, interval(low, high))[0] == wanted


def test_no_interval_is_inconclusive_with_the_reason():
    check = Check("c", ((1.0, {"a": 1}),), "positive")
    assert verdict(check, Contrast((1.0,), (), 0.5, note="sample(s) 1 have 1 value")) == (INCONCLUSIVE, "sample(s) 1 have 1 value")


def test_bad_checks_are_refused():
    with pytest.raises(ValueError, match="expect must be one of"):
        Check("c", ((1.0, {}),), "bigger")
    with pytest.raises(ValueError, match="margin must be"):
        Check("c", ((1.0, {}),), "equivalent")
    with pytest.raises(ValueError, match="at least one"):
        Check("c", (), "positive")


RUNS = [
    *(run("plif", 2.0, "digits", acc, seed) for seed, acc in enumerate([0.95, 0.96, 0.94])),
    *(run("lif", 2.0, "digits", acc, seed) for seed, acc in enumerate([0.90, 0.91, 0.92])),
    *(run("plif", 16.0, "digits", acc, seed) for seed, acc in enumerate([0.94, 0.95, 0.95])),
    *(run("lif", 16.0, "digits", acc, seed) for seed, acc in enumerate([0.70, 0.80, 0.75])),
    *(run("plif", 2.0, "events", acc, seed) for seed, acc in enumerate([0.80, 0.90])),
    *(run("lif", 2.0, "events", acc, seed) for seed, acc in enumerate([0.85, 0.86])),
]
PLIF2, LIF2 = {"model.neuron.kind": "plif", "model.neuron.tau": 2.0}, {"model.neuron.kind": "lif", "model.neuron.tau": 2.0}
PLIF16, LIF16 = {"model.neuron.kind": "plif", "model.neuron.tau": 16.0}, {"model.neuron.kind": "lif", "model.neuron.tau": 16.0}


def test_a_difference_is_checked_per_group_on_the_runs_each_side_picks():
    digits, events = run_check(difference("PLIF(2) - LIF(2)", PLIF2, LIF2, "positive", within=("data.dataset",)), RUNS, METRICS)
    assert (digits.group, events.group) == ({"data.dataset": "digits"}, {"data.dataset": "events"})
    assert digits.contrast.estimate == pytest.approx(0.95 - 0.91) and digits.verdict == HOLDS
    assert events.contrast.estimate == pytest.approx(0.85 - 0.855) and events.verdict == INCONCLUSIVE
    assert [len(paths) for paths in digits.runs] == [3, 3] and all("events" in path for paths in events.runs for path in paths)


def test_a_difference_of_differences_uses_four_groups():
    check = Check("sensitivity", ((1.0, LIF2), (-1.0, LIF16), (-1.0, PLIF2), (1.0, PLIF16)), "positive", within=("data.dataset",))
    results = run_check(check, RUNS, METRICS)
    digits = next(result for result in results if result.group == {"data.dataset": "digits"})
    means = [statistics.fmean(values) for values in ([0.90, 0.91, 0.92], [0.70, 0.80, 0.75], [0.95, 0.96, 0.94], [0.94, 0.95, 0.95])]
    assert digits.contrast.estimate == pytest.approx(means[0] - means[1] - means[2] + means[3]) and digits.verdict == HOLDS
    events = next(result for result in results if result.group == {"data.dataset": "events"})
    assert events.verdict == INCONCLUSIVE and any("no run has" in note for note in events.notes)


def test_excluded_runs_are_left_out():
    (result,) = run_check(difference("PLIF - LIF", {"model.neuron.kind": "plif"}, {"model.neuron.kind": "lif"}, "positive",
                                     exclude=({"data.dataset": "events"}, {"model.neuron.tau": 16.0})), RUNS, METRICS)  # fmt: skip
    assert [len(paths) for paths in result.runs] == [3, 3]


def test_runs_without_the_metric_are_named():
    runs = [*RUNS[:6], run("lif", 2.0, "digits", None, 9)]
    (result,) = run_check(difference("d", PLIF2, LIF2, "positive"), runs, METRICS)
    assert result.notes == ('model.neuron.kind="lif", model.neuron.tau=2.0: 1 of 4 runs have no accuracy',)
    assert [s.n for s in result.contrast.summaries] == [3, 3]
    with pytest.raises(KeyError, match="uses the metric 'loss'"):
        run_check(difference("d", PLIF2, LIF2, "positive", metric="loss"), runs, METRICS)


def test_a_claim_with_checks_that_disagree_is_mixed():
    claim = Claim("k", "PLIF beats LIF", "Table 4", (difference("d", PLIF2, LIF2, "positive", within=("data.dataset",)),))
    results = evaluate_claim(claim, RUNS, METRICS)
    assert claim_verdict(results) == f"mixed: {HOLDS} 1, {INCONCLUSIVE} 1 of 2 checks"
    assert claim_verdict(results[:1]) == HOLDS


def test_holm_adjusts_a_family_step_down():
    from spikedyn.analysis.statistics import holm

    # m = 4: 0.01 * 4, max(0.04, 0.02 * 3), max(0.06, 0.03 * 2), max(0.06, 0.5 * 1)
    assert holm([0.03, 0.01, None, 0.5, 0.02]) == pytest.approx([0.06, 0.04, None, 0.5, 0.06])
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # 2 x 0.8 capped at 1, and never below a smaller p's
    assert holm([]) == []


@pytest.mark.parametrize(
    ("low", "high", "wanted"),
    [(-0.005, 0.02, HOLDS), (-0.03, -0.015, FAILS), (-0.02, 0.01, INCONCLUSIVE)],
)
def test_a_noninferiority_claim_holds_above_minus_its_margin(low, high, wanted):
    check = Check("c", ((1.0, {"a": 1}), (-1.0, {"a": 2})), "noninferior", margin=0.01)
    assert verdict(check, interval(low, high))[0] == wanted

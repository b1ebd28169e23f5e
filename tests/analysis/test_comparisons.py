"""Comparisons of a sweep: runs selected by config values, side a against side b per within group, by Welch's test."""

import csv
import statistics

import pytest

from spikedyn.analysis.comparisons import COLUMNS, compare, find_sweep_file, load_comparisons, select
from spikedyn.analysis.tables import collect_rows, expand_runs, load_runs
from spikedyn.cli import main
from tests.analysis.run_folders import make_run, result
from tests.analysis.test_statistics import welch_by_hand

ACCURACIES = {  # (neuron, learning rate): reported accuracy per seed
    ("plif", 0.001): [0.91, 0.93, 0.95],
    ("lif", 0.001): [0.85, 0.88],
    ("plif", 0.01): [0.90],
    ("lif", 0.01): [0.80, 0.84],
}
SWEEP = """\
name: neurons
grid: {model.neuron.kind: [plif, lif], optimizer.lr: [0.001, 0.01]}
comparisons:
  - name: plif_vs_lif
    a: {model.neuron.kind: plif}
    b: {model.neuron.kind: lif}
    within: [optimizer.lr]
"""


def reported_b(accuracy):
    """A protocol B summary reporting ``accuracy``."""
    return result(accuracy, 1, accuracy, accuracy, 1, 2)


@pytest.fixture
def sweep(tmp_path):
    """A sweep folder: its sweep.yaml and one run per (neuron, learning rate, seed)."""
    root = tmp_path / "runs" / "neurons"
    for (kind, lr), accuracies in ACCURACIES.items():
        for seed, accuracy in enumerate(accuracies, 1):
            overrides = ["name=neurons", f"model.neuron.kind={kind}", f"optimizer.lr={lr}", f"seed={seed}"]
            make_run(root / f"{kind}-lr{lr}-s{seed}", overrides, reported_b(accuracy))
    (root / "sweep.yaml").write_text(SWEEP)
    return root


def test_a_sweeps_comparison_is_made_per_within_group_with_welchs_test(sweep):
    results = compare(expand_runs([sweep]), load_comparisons(sweep / "sweep.yaml"))
    by_lr = {r.group["optimizer.lr"]: r.record() for r in results}
    assert sorted(by_lr) == [0.001, 0.01] and {r.name for r in results} == {"plif_vs_lif"}
    a, b = ACCURACIES[("plif", 0.001)], ACCURACIES[("lif", 0.001)]
    diff, t, df, p, half = welch_by_hand(a, b)
    row = by_lr[0.001]
    assert (row["n_a"], row["n_b"], row["mean_a"], row["mean_b"]) == (3, 2, pytest.approx(statistics.fmean(a)), pytest.approx(statistics.fmean(b)))
    assert (row["diff"], row["t"], row["df"], row["p"]) == (pytest.approx(diff), pytest.approx(t), pytest.approx(df), pytest.approx(p))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(diff - half), pytest.approx(diff + half))
    assert row["within"] == "optimizer.lr=0.001" and row["a"] == 'model.neuron.kind="plif"' and row["note"] == ""
    assert len(row["runs_a"]) == 3 and all("plif-lr0.001" in run for run in row["runs_a"])


def test_a_side_with_one_run_or_none_is_reported_with_a_note(sweep):
    runs = expand_runs([sweep])
    one = {r.group["optimizer.lr"]: r for r in compare(runs, load_comparisons(sweep / "sweep.yaml"))}[0.01].record()
    assert one["n_a"] == 1 and one["diff"] == pytest.approx(0.90 - statistics.fmean(ACCURACIES[("lif", 0.01)]))
    assert one["p"] is None and one["ci_low"] is None and "side a has 1 value" in one["note"]
    (none,) = compare(runs, [{"name": "typo", "a": {"model.neuron.kind": "plif"}, "b": {"model.neuron.knd": "lif"}}])
    assert none.record()["n_b"] == 0 and none.record()["diff"] is None
    assert none.note.startswith("side b matches no run (no run has model.neuron.knd)")


def test_runs_on_both_sides_and_mixed_protocols_are_noted(sweep, tmp_path):
    make_run(tmp_path / "a-run", ["name=neurons", "protocol=A", "model.neuron.kind=lif", "optimizer.lr=0.01"], {"protocol": "A", "protocol_A": {"test_acc": 0.8, "epoch": 1}})
    runs = expand_runs([sweep, tmp_path / "a-run"])
    (overlap,) = compare(runs, [{"name": "x", "a": {"optimizer.lr": 0.001}, "b": {"model.neuron.kind": "lif"}}])
    assert "2 run(s) match both sides" in overlap.note and "runs of protocols A and B mixed" in overlap.note


def test_select_picks_runs_and_rows_by_dotted_or_nested_config_values(sweep):
    runs = load_runs(expand_runs([sweep]))
    assert len(select(runs, {"model.neuron.kind": "plif"})) == len(ACCURACIES[("plif", 0.001)] + ACCURACIES[("plif", 0.01)])
    assert [run.config["seed"] for run in select(runs, {"model": {"neuron": {"kind": "lif"}}, "optimizer.lr": 0.01})] == [1, 2]
    (row,) = select(collect_rows(runs), {"model.neuron.kind": "lif", "optimizer.lr": "1e-3"})  # YAML reads 1e-3 as text
    assert row["n"] == 2 and row["accuracy_mean"] == pytest.approx(statistics.fmean(ACCURACIES[("lif", 0.001)]))


def test_any_function_of_a_run_can_be_compared(tmp_path):
    def epochs_to_90(run):
        """The first epoch whose training accuracy reaches 0.9."""
        return next((row["epoch"] for row in run.history if row["train_acc"] >= 0.9), None)

    epochs = {"plif": [3, 5], "lif": [6, 8, 7]}
    for kind, reached in epochs.items():
        for seed, epoch in enumerate(reached):
            history = [{"epoch": e, "train_acc": 0.95 if e >= epoch else 0.5} for e in range(10)]
            make_run(tmp_path / f"{kind}-{seed}", [f"model.neuron.kind={kind}", f"seed={seed}"], reported_b(0.9), history)
    (result_,) = compare(expand_runs([tmp_path]), [{"name": "speed", "a": {"model.neuron.kind": "plif"}, "b": {"model.neuron.kind": "lif"}}], epochs_to_90)
    diff, t, df, p, half = welch_by_hand(epochs["plif"], epochs["lif"])
    assert (result_.difference.diff, result_.difference.p) == (pytest.approx(diff), pytest.approx(p))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("comparisons:\n  - {name: x, a: {model.neuron.kind: plif}}\n", "comparison 1: missing b"),
        ("- {name: x, a: {k: 1}, b: {k: 2}, whithin: [seed]}\n", "unknown key"),
        ("- {name: x, a: {}, b: {k: 2}}\n", "a must map config keys to values"),
        ("- {name: x, a: {k: 1}, b: {k: 2}, within: 3}\n", "within must be a list"),
        ("comparisons: {name: x}\n", "must be a list"),
        ("comparisons: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_comparison_is_an_error_naming_the_file_and_the_problem(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_comparisons(tmp_path / "c.yaml")
    assert "c.yaml" in str(error.value)


def test_comparisons_are_read_from_a_sweep_file_or_a_bare_list(tmp_path):
    (tmp_path / "list.yaml").write_text("- {name: x, a: {model: {neuron: {kind: plif}}}, b: {model.neuron.kind: lif}, within: data.dataset}\n")
    (comparison,) = load_comparisons(tmp_path / "list.yaml")
    assert (comparison.a, comparison.b, comparison.within) == ({"model.neuron.kind": "plif"}, {"model.neuron.kind": "lif"}, ("data.dataset",))
    (tmp_path / "plain.yaml").write_text("name: no comparisons\n")
    assert load_comparisons(tmp_path / "plain.yaml") == []


def test_the_sweep_file_is_found_only_in_a_folder_holding_all_the_runs(sweep, tmp_path):
    runs = expand_runs([sweep])
    assert find_sweep_file(runs) == (sweep / "sweep.yaml").resolve() and find_sweep_file(runs[:1]) == (sweep / "sweep.yaml").resolve()
    make_run(tmp_path / "runs" / "other" / "r", ["seed=1"])
    assert find_sweep_file([runs[0], tmp_path / "runs" / "other" / "r"]) is None
    (tmp_path / "sweep.yaml").write_text("comparisons: []\n")
    assert find_sweep_file([tmp_path / "runs" / "other" / "r"]) is None, "a sweep file two levels up is not the runs' sweep"


def test_the_table_command_writes_markdown_rows_and_comparisons(sweep, tmp_path, capsys):
    out = tmp_path / "out" / "results"
    assert main(["table", str(sweep / "*"), "--out", str(out)]) == 0
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "Comparisons (from" in markdown and "| plif_vs_lif | optimizer.lr=0.001 |" in markdown
    with open(f"{out}_comparisons.csv", newline="") as file:
        reader = csv.DictReader(file)
        table = list(reader)
    assert reader.fieldnames == COLUMNS and [(r["within"], r["n_a"], r["n_b"]) for r in table] == [("optimizer.lr=0.001", "3", "2"), ("optimizer.lr=0.01", "1", "2")]
    assert table[1]["p"] == "" and "side a has 1 value" in table[1]["note"]
    with open(f"{out}.csv", newline="") as file:
        assert len(list(csv.DictReader(file))) == len(ACCURACIES)
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_the_table_command_takes_comparisons_from_a_file_and_refuses_a_bad_one(sweep, tmp_path, capsys):
    (tmp_path / "mine.yaml").write_text("- {name: by_lr, a: {optimizer.lr: 0.001}, b: {optimizer.lr: 0.01}, within: [model.neuron.kind]}\n")
    assert main(["table", str(sweep), "--comparisons", str(tmp_path / "mine.yaml")]) == 0
    printed = capsys.readouterr().out
    assert '| by_lr | model.neuron.kind="plif" |' in printed and "plif_vs_lif" not in printed
    (tmp_path / "bad.yaml").write_text("- {name: x}\n")
    assert main(["table", str(sweep), "--comparisons", str(tmp_path / "bad.yaml")]) == 2
    assert "bad.yaml: comparison 1: missing a, b" in capsys.readouterr().err

"""The results table: runs grouped by configuration, mean ± sample std and t interval over seeds, Markdown and CSV."""

import csv
import math

import pytest

from spikedyn.analysis.tables import collect_rows, expand_runs, format_markdown, write_csv
from tests.analysis.run_folders import make_run, result

T_975_DF1 = math.tan(0.475 * math.pi)  # the t distribution with 1 degree of freedom is Cauchy's: its quantile in closed form


@pytest.fixture
def runs(tmp_path):
    """Two seeds of the PLIF config, one of a LIF config, one PLIF seed with a new description."""
    root = tmp_path / "runs"
    make_run(root / "plif-s1", ["name=plif", "seed=1"], result(0.90, 7, 0.95, 0.88, 5, 10))
    make_run(root / "plif-s2", ["name=plif", "seed=2", "description=again"], result(0.94, 8, 0.97, 0.92, 9, 10))
    make_run(root / "lif-s1", ["name=lif", "seed=1", "model.neuron.kind=lif"], result(0.80, 3, 0.85, 0.79, 2, 10))
    return root


def test_runs_equal_but_for_seed_and_description_are_one_row_with_mean_and_sample_std(runs):
    rows = collect_rows(expand_runs([runs]))
    assert [(r["name"], r["n"], r["seeds"]) for r in rows] == [("lif", 1, [1]), ("plif", 2, [1, 2])]
    lif, plif = rows
    assert plif["protocol"] == "B" and plif["accuracy_mean"] == pytest.approx(0.90) and plif["accuracy_std"] == pytest.approx(math.sqrt(0.0008))
    assert plif["max_test_mean"] == pytest.approx(0.92) and plif["max_test_std"] == pytest.approx(math.sqrt(0.0008))
    assert plif["best_val_mean"] == pytest.approx(0.96) and plif["best_val_std"] == pytest.approx(math.sqrt(0.0002))
    assert plif["epochs"] == [10, 10] and plif["note"] == "" and plif["variant"] == ""
    assert lif["max_test_mean"] == pytest.approx(0.80) and lif["max_test_std"] is None and lif["max_test_n"] == 1


def test_each_row_has_the_95_percent_t_interval_of_its_mean_and_none_for_one_seed(runs):
    lif, plif = collect_rows(expand_runs([runs]))
    half = T_975_DF1 * math.sqrt(0.0008) / math.sqrt(2)  # 0.25: the interval would pass 100%, which no accuracy can
    assert (plif["accuracy_ci_low"], plif["accuracy_ci_high"]) == (pytest.approx(0.90 - half), 1.0)
    assert (plif["max_test_ci_low"], plif["max_test_ci_high"]) == (pytest.approx(0.92 - half), 1.0)
    unclipped = collect_rows(expand_runs([runs]), fractions=())[1]
    assert unclipped["accuracy_ci_high"] == pytest.approx(0.90 + half)
    assert lif["accuracy_ci_low"] is None and lif["accuracy_ci_high"] is None and lif["accuracy_n"] == 1


def test_any_function_of_a_run_is_summarized_like_the_accuracy(runs):
    gap = lambda run: run.summary["epochs_completed"] - run.config["seed"]  # noqa: E731
    lif, plif = collect_rows(expand_runs([runs]), {"gap": gap})
    assert (plif["gap_mean"], plif["gap_std"], plif["gap_n"]) == (8.5, pytest.approx(math.sqrt(0.5)), 2)
    assert "accuracy_mean" not in plif and plif["config"]["model.neuron.kind"] == "plif" and "seed" not in plif["config"]


def test_configs_sharing_a_name_are_separate_rows_named_by_what_differs(tmp_path):
    make_run(tmp_path / "a", ["name=x", "optimizer.lr=0.01"], result(0.5, 0, 0.5, 0.5, 0, 1))
    make_run(tmp_path / "b", ["name=x"], result(0.6, 0, 0.6, 0.6, 0, 1))
    rows = collect_rows([tmp_path / "a", tmp_path / "b"])
    assert [r["variant"] for r in rows] == ["optimizer.lr=0.01", "optimizer.lr=0.001"]


def test_markdown_shows_percent_with_two_decimals_and_dash_for_a_single_seed_std(runs):
    text = format_markdown(collect_rows(expand_runs([runs])))
    lines = text.split("\n\n", 1)[1].splitlines()
    assert text.startswith("Accuracies in %: mean ± sample std [95% confidence interval of the mean")
    assert lines[0].startswith("Protocol B: 85% of each class for training")
    assert lines[2] == "| name | n | seeds | epochs | reported (%) | best val (%) | max test (%, info) | note |"
    assert lines[4] == "| lif | 1 | 1 | 10 | 79.00 ± - [-] (n=1) | 85.00 ± - [-] (n=1) | 80.00 ± - [-] (n=1) |  |"
    half, val_half = (100 * T_975_DF1 * math.sqrt(v) / math.sqrt(2) for v in (0.0008, 0.0002))
    ci = lambda mean, h: f"[{mean - h:.2f}, {min(mean + h, 100):.2f}]"  # noqa: E731
    assert lines[5] == f"| plif | 2 | 1, 2 | 10 | 90.00 ± 2.83 {ci(90, half)} (n=2) | 96.00 ± 1.41 {ci(96, val_half)} (n=2) | 92.00 ± 2.83 {ci(92, half)} (n=2) |  |"


def test_csv_is_written_with_one_line_per_configuration(runs, tmp_path):
    path = write_csv(collect_rows(expand_runs([runs])), tmp_path / "out" / "table.csv")
    with open(path, newline="") as file:
        table = list(csv.DictReader(file))
    assert [(r["name"], r["n"], r["seeds"], r["epochs"]) for r in table] == [("lif", "1", "1", "10"), ("plif", "2", "1;2", "10")]
    assert table[1]["protocol"] == "B" and float(table[1]["accuracy_mean"]) == pytest.approx(0.90) and table[0]["accuracy_std"] == ""
    half = T_975_DF1 * math.sqrt(0.0008) / math.sqrt(2)
    assert float(table[1]["accuracy_ci_low"]) == pytest.approx(0.90 - half) and table[0]["accuracy_ci_high"] == ""
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_runs_without_summary_or_test_split_show_a_dash_and_a_note(tmp_path):
    make_run(tmp_path / "fresh", ["name=fresh"])
    no_test = result(None, None, 0.9, None, 4, 5)
    no_test["max_test"] = None
    make_run(tmp_path / "notest", ["name=notest", "data.test=false"], no_test)
    rows = collect_rows([tmp_path / "fresh", tmp_path / "notest"])
    assert rows[0]["accuracy_mean"] is None and rows[0]["note"] == "no summary.json"
    assert rows[1]["accuracy_mean"] is None and rows[1]["best_val_mean"] == pytest.approx(0.9)
    assert rows[1]["note"] == "no test split (data.test=false)"
    lines = format_markdown(rows).splitlines()
    assert lines[6] == "| fresh | 1 | 2020 | - | - | - | - | no summary.json |"
    assert lines[7] == "| notest | 1 | 2020 | 5 | - | 90.00 ± - [-] (n=1) | - | no test split (data.test=false) |"


def test_protocols_are_separate_tables_and_a_b_run_is_never_called_protocol_a(tmp_path):
    make_run(tmp_path / "a", ["name=plif", "protocol=A"], {"protocol": "A", "protocol_A": {"test_acc": 0.93, "epoch": 4}, "epochs_completed": 5})
    make_run(tmp_path / "b", ["name=plif"], result(0.95, 3, 0.97, 0.91, 2, 5))
    legacy = {"protocol_A": {"test_acc": 0.94, "epoch": 1}, "protocol_B": {"val_acc": 0.9, "test_acc": 0.89, "epoch": 2}, "epochs_completed": 3}
    make_run(tmp_path / "old", ["name=old"], legacy)  # written before runs had a protocol: a B run
    rows = collect_rows([tmp_path / "b", tmp_path / "old", tmp_path / "a"])
    assert [(r["protocol"], r["name"]) for r in rows] == [("A", "plif"), ("B", "plif"), ("B", "old")]
    assert rows[0]["accuracy_mean"] == pytest.approx(0.93) and rows[0]["max_test_mean"] is None and rows[0]["best_val_mean"] is None
    assert rows[1]["accuracy_mean"] == pytest.approx(0.91) and rows[1]["max_test_mean"] == pytest.approx(0.95)
    assert rows[2]["accuracy_mean"] == pytest.approx(0.89) and rows[2]["max_test_mean"] == pytest.approx(0.94)
    text = format_markdown(rows)
    a_section, b_section = text.split("\n\n", 1)[1].split("Protocol B:")
    assert a_section.startswith("Protocol A: whole training set; maximum test accuracy") and "| plif | 1 | 2020 | 5 | 93.00 ± - [-] (n=1) |  |" in a_section
    assert "max test" not in a_section and "| old | 1 | 2020 | 3 | 89.00 ± - [-] (n=1) | 90.00 ± - [-] (n=1) | 94.00 ± - [-] (n=1) |  |" in b_section


def test_globs_and_folders_expand_to_run_folders(runs):
    assert expand_runs([str(runs / "plif-*")]) == [runs / "plif-s1", runs / "plif-s2"]
    assert expand_runs([runs / "lif-s1", str(runs / "*")]) == [runs / "lif-s1", runs / "plif-s1", runs / "plif-s2"]
    assert expand_runs(str(runs / "*" / "config.yaml")) == [runs / "lif-s1", runs / "plif-s1", runs / "plif-s2"]


def test_a_pattern_matching_no_run_is_an_error_naming_it(runs, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-run-"):
        expand_runs([runs, str(tmp_path / "no-such-run-*")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        expand_runs([tmp_path / "empty"])

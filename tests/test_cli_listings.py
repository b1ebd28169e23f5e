"""What the listing commands print (runs --json, study --list, plot --list) and a short ``spikedyn demo``."""

from __future__ import annotations

import json
import re

from spikedyn.analysis.figures import FIGURES
from spikedyn.cli import main
from spikedyn.studies.catalog import STUDIES
from tests.analysis.run_folders import make_run, result


def test_runs_json_gives_each_runs_status_epochs_and_reported_accuracies(tmp_path, capsys):
    b_run = make_run(tmp_path / "b", ["name=b_run"], summary={**result(0.91, 4, 0.88, 0.87, 2, 5), "name": "b_run", "max_epochs": 5})
    a_run = make_run(tmp_path / "a", ["name=a_run", "protocol=A"],
                     summary={"name": "a_run", "protocol": "A", "protocol_A": {"test_acc": 0.93, "epoch": 1}, "epochs_completed": 2, "max_epochs": 3})  # fmt: skip
    assert main(["runs", str(tmp_path), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries == [
        {"run": str(a_run), "name": "a_run", "status": "completed", "epochs": "2/3", "protocol": "A", "accuracy": 0.93, "best_val": None, "max_test": None},
        {"run": str(b_run), "name": "b_run", "status": "completed", "epochs": "5/5", "protocol": "B", "accuracy": 0.87, "best_val": 0.88, "max_test": 0.91},
    ]


def test_runs_json_of_an_empty_folder_is_an_empty_list(tmp_path, capsys):
    assert main(["runs", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_study_list_names_every_study_and_each_claim_with_its_source(capsys):
    assert main(["study", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = []
    for study in STUDIES.values():
        expected += [f"{study.name}: {study.title}", *(f"  - {claim.key} ({claim.source})" for claim in study.claims)]
    assert lines == expected and len(STUDIES) >= 5


def test_plot_list_names_every_figure_with_the_seed_figure_it_redraws(capsys):
    assert main(["plot", "--list"]) == 0
    listed = {}
    for line in capsys.readouterr().out.splitlines():
        if match := re.fullmatch(r"(\w+) +(.+)  \[from (runs|the neuron model)\]", line):
            listed[match[1]] = (match[2], match[3] == "runs")
    assert listed == {name: (spec.redraws, spec.needs_runs) for name, spec in FIGURES.items()}


def test_a_short_demo_trains_and_reports_accuracy_and_the_learned_tau(capsys):
    assert main(["demo", "--iterations", "5", "--steps", "8", "--tau", "8"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"test accuracy: \d+\.\d% before training -> \d+\.\d% after", out), out
    taus = dict(re.findall(r"^  (sn[12]): (.+)$", out, re.MULTILINE))
    assert set(taus) == {"sn1", "sn2"}
    for layer, change in taus.items():
        before, after = (float(side.split("+-")[0]) for side in change.split("->"))
        assert before == 8.0 and after != before, f"{layer}: {change}"  # five Adam steps moved tau

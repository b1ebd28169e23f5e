"""Every shipped study is a valid sweep on both budgets, and every claim's checks pick runs that the sweep trains."""

import pytest

from spikedyn.analysis.comparisons import select
from spikedyn.analysis.run_records import RunRecords
from spikedyn.studies.catalog import STUDIES, get_study
from spikedyn.studies.runner import write_inputs
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.config import config_to_dict

NAMES = ["plif_vs_lif", "pooling", "loss_convergence", "per_neuron_tau", "imp_small_t", "beyond_tau"]


def test_the_studies_the_issue_names_are_shipped():
    assert list(STUDIES) == NAMES
    with pytest.raises(ValueError, match="no study named 'nope'; the studies are plif_vs_lif"):
        get_study("nope")


@pytest.mark.parametrize(("name", "budget"), [(name, budget) for name in NAMES for budget in STUDIES[name].budgets])
def test_a_study_is_a_valid_sweep_whose_claims_pick_its_runs(name, budget, tmp_path):
    study = STUDIES[name]
    sweep = Sweep.load(write_inputs(study, budget, tmp_path), tmp_path)
    assert sweep.file.threads == 1, "a study's runs train with one thread, whatever --workers"
    configs = sweep.configs()  # every run's config validates
    runs = [RunRecords(sweep.run_dir(run), run.name, [], {}, config_to_dict(configs[run.name])) for run in sweep.runs]
    seeds = study.budget(budget).seeds
    assert len(seeds) >= (2 if budget == "smoke" else 5), "a full or real study has at least 5 seeds per configuration"
    datasets = {study.bases[label]["data"]["dataset"] for label in study.base_labels(budget)}
    for claim in study.claims:
        for check in claim.checks:
            if not {where.get("data.dataset") for _, where in check.terms} - {None} <= datasets:
                continue  # a claim about other data: its report says "not tested" for this budget
            for _, where in check.terms:
                picked = select(runs, where)
                assert len(picked) >= len(seeds), f"{name}: {check.label}: {where} picks {len(picked)} runs"
    if budget == "smoke":
        assert len(sweep.runs) <= 30, "a smoke study trains few, tiny runs"
        assert all(run.config["trainer"]["max_epochs"] <= 2 for run in runs)


def test_a_smoke_budget_keeps_its_event_data_in_the_study_folder(tmp_path):
    study = get_study("pooling")
    base = study.base_config("event_digits", "smoke", str(tmp_path))
    assert base["data"]["options"]["root"] == f"{tmp_path}/data" and base["data"]["options"]["limit"] == 200
    assert study.base_config("event_digits", "full", str(tmp_path))["data"]["options"]["root"] == "data"


def test_a_folder_of_another_budget_is_refused_before_anything_is_written(tmp_path):
    study = get_study("pooling")
    sweep_file = write_inputs(study, "smoke", tmp_path)
    before = sweep_file.read_bytes()
    assert write_inputs(study, "smoke", tmp_path) == sweep_file, "the same budget again is the same study"
    with pytest.raises(ValueError, match="other inputs .* differ from study pooling's full budget"):
        write_inputs(study, "full", tmp_path)
    assert sweep_file.read_bytes() == before


def test_the_real_budgets_train_on_fashion_mnist_and_imp_small_t_has_20_seeds_on_digits(tmp_path):
    assert {name for name in NAMES if "real" in STUDIES[name].budgets} == {"plif_vs_lif", "imp_small_t", "beyond_tau"}
    for name in ("plif_vs_lif", "imp_small_t"):
        sweep = Sweep.load(write_inputs(STUDIES[name], "real", tmp_path / name), tmp_path / name)
        assert {run.label for run in sweep.runs} == {"fashion_mnist"}
    sweep = Sweep.load(write_inputs(STUDIES["imp_small_t"], "full", tmp_path / "imp"), tmp_path / "imp")
    seeds = {label: {run.seed for run in sweep.runs if run.label == label} for label in ("digits", "event_digits")}
    assert len(seeds["digits"]) == 20 and len(seeds["event_digits"]) == 5
    with pytest.raises(ValueError, match="study pooling has no real budget; its budgets: smoke, full"):
        STUDIES["pooling"].budget("real")

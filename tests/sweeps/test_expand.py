"""A sweep file expands to bases x grid x variants x seeds, each run named by what varies; mistakes are found before anything runs."""

import pytest

from spikedyn.cli import main
from spikedyn.sweeps.naming import key_labels, value_text
from spikedyn.sweeps.slurm_parameters import executor_arguments
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.config import ConfigError
from tests.sweeps.sweeps import DIGITS, TINY, write_sweep

GRID = {"model.neuron.tau": [2.0, 16.0], "optimizer.lr": [0.001, 1e-4]}
VARIANTS = [{}, {"model.neuron.tau_shape": "channel", "regularizer.kind": "variance", "regularizer.lam": 0.01}]


def _full(folder):
    """A sweep of 2 bases (one given relative to the sweep file) x 4 grid points x 2 variants x 2 seeds."""
    (folder / "decay.yaml").write_text(f"extends: {DIGITS}\noptimizer:\n  weight_decay: 0.0001\n")
    return write_sweep(folder, base=None, bases={"plain": str(DIGITS), "decay": "decay.yaml"}, grid=GRID, variants=VARIANTS, seeds=[1, 2])


def test_runs_are_every_base_grid_point_variant_and_seed_in_order(tmp_path):
    sweep = Sweep.load(_full(tmp_path))
    names = [run.name for run in sweep.runs]
    assert len(names) == len(set(names)) == 2 * 2 * 2 * 2 * 2
    assert names[:4] == ["plain,tau=2.0,lr=0.001,seed=1", "plain,tau=2.0,lr=0.001,seed=2",
                         "plain,tau=2.0,lr=0.001,tau_shape=channel,kind=variance,lam=0.01,seed=1",
                         "plain,tau=2.0,lr=0.001,tau_shape=channel,kind=variance,lam=0.01,seed=2"]  # fmt: skip
    assert names[-1] == "decay,tau=16.0,lr=0.0001,tau_shape=channel,kind=variance,lam=0.01,seed=2"
    configs = sweep.configs()
    last = configs[names[-1]]
    assert (last.model.neuron.tau, last.optimizer.lr, last.model.neuron.tau_shape, last.regularizer.lam, last.seed) == (16.0, 1e-4, "channel", 0.01, 2)
    assert last.optimizer.weight_decay == 1e-4 and configs[names[0]].optimizer.weight_decay == 0.0
    assert last.trainer.max_epochs == TINY["trainer.max_epochs"] and configs[names[0]].model.neuron.tau_shape == "layer"
    again = Sweep.load(_full(tmp_path))
    assert [run.name for run in again.runs] == names  # stable across invocations


def test_names_are_filesystem_safe_and_tell_values_apart():
    assert [value_text(v) for v in (0.001, 1e-05, 2.0, 2, True, None, "lognormal", -1)] == ["0.001", "1e-05", "2.0", "2", "true", "null", "lognormal", "-1"]
    slashed, listed = value_text("a/b"), value_text([1, 2])
    assert slashed.startswith("a-b-") and slashed != value_text("a-b") == "a-b"
    assert listed.startswith("1-2-") and listed != value_text([1, 2.0]) and "/" not in listed + slashed
    assert key_labels(["model.options.x", "data.options.x", "model.neuron.tau"]) == {
        "model.options.x": "model.options.x", "data.options.x": "data.options.x", "model.neuron.tau": "tau"}  # fmt: skip


def test_values_reach_the_config_exactly_as_written(tmp_path):
    sweep = Sweep.load(write_sweep(tmp_path, grid={"description": ["1e-3", "on", "null"], "optimizer.lr": [1e-3]}))
    configs = [sweep.configs()[run.name] for run in sweep.runs]
    assert [(config.description, config.optimizer.lr) for config in configs] == [("1e-3", 0.001), ("on", 0.001), ("null", 0.001)]
    assert [run.name for run in sweep.runs] == ["description=1e-3,lr=0.001,seed=1", "description=on,lr=0.001,seed=1", "description=null,lr=0.001,seed=1"]


@pytest.mark.parametrize(("sections", "expected"), [
    ({"overrides": {"trainer.max_epoch": 1}}, ["overrides.trainer.max_epoch", "did you mean 'trainer.max_epochs'"]),
    ({"seed": [1]}, ["unknown key 'seed' (did you mean 'seeds'?)"]),
    ({"grid": {"model.neuron.tua": [1.0, 2.0]}}, ["grid.model.neuron.tua", "did you mean 'model.neuron.tau'"]),
    ({"variants": [{"optimizer.lr.x": 1}]}, ["optimizer.lr is a value, not a section"]),
    ({"slurm": {"partion": "gpu"}}, ["slurm.partion", "did you mean 'slurm.partition'"]),
    ({"comparisons": [{"name": "c", "a": {"model.neuron.knd": "plif"}, "b": {}}]}, ["comparisons[0].a.model.neuron.knd", "comparisons[0].b"]),
    ({"grid": {"trainer.max_epochs": [1, 2]}}, ["trainer.max_epochs: set in both overrides and grid"]),
    ({"bases": {"a": str(DIGITS)}}, ["give either base"]),
    ({"seeds": [1, 1]}, ["seeds: lists a seed twice"]),
    ({"name": "../x"}, ["name: expected the sweep's folder name"]),
])  # fmt: skip
def test_mistakes_in_the_file_are_named_with_the_nearest_valid_key(tmp_path, sections, expected):
    with pytest.raises(ConfigError) as caught:
        Sweep.load(write_sweep(tmp_path, **sections))
    assert str(tmp_path / "tiny.yaml") in str(caught.value)
    for part in expected:
        assert part in str(caught.value)


def test_an_invalid_value_names_the_file_the_run_and_the_key(tmp_path):
    sweep = Sweep.load(write_sweep(tmp_path, grid={"trainer.max_epochs": [1, "two"]}, overrides={"data.options.time_steps": 1}))
    with pytest.raises(ConfigError, match=r"tiny\.yaml: run max_epochs=two,seed=1: .*trainer\.max_epochs: expected int"):
        sweep.configs()


def test_runs_that_would_share_a_name_or_a_comparison_that_matches_nothing_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="two runs would both be named 'x=1,seed=1'"):
        Sweep.load(write_sweep(tmp_path, grid={"model.options.x": [1, "1"]}))
    sweep = Sweep.load(write_sweep(tmp_path, comparisons=[{"name": "c", "a": {"model.neuron.tau": 2.0}, "b": {"model.neuron.tau": 3.0}}]))
    with pytest.raises(ConfigError, match=r"comparisons\[0\] \(c\): b = .* matches no run"):
        sweep.configs()


def test_slurm_resources_go_to_submitit_by_its_names():
    constructor, parameters = executor_arguments({"partition": "gpu", "timeout_min": 60, "gpus_per_node": 1, "array_parallelism": 4, "max_num_timeout": 5})
    assert constructor == {"slurm_max_num_timeout": 5}
    assert parameters == {"slurm_partition": "gpu", "timeout_min": 60, "gpus_per_node": 1, "slurm_array_parallelism": 4}


def test_dry_run_and_status_of_a_sweep_not_started_write_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, grid={"model.neuron.tau": [2.0, 4.0]})
    out = tmp_path / "runs"
    assert main(["sweep", str(path), "--dry-run", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 runs: 2 pending" in printed and "to train: 2 run(s)" in printed and "  tau=4.0,seed=1 (new)" in printed
    assert main(["sweep", "status", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tau=2.0,seed=1" in printed and "2 runs: 2 pending, 0 running, 0 stopped, 0 completed, 0 failed" in printed
    assert not out.exists()


def test_a_bad_sweep_file_is_one_line_and_exit_status_2(tmp_path, capsys):
    assert main(["sweep", str(write_sweep(tmp_path, overrides={"trainer.max_epoch": 1})), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikedyn sweep: ") and "did you mean 'trainer.max_epochs'" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["sweep", "status", str(tmp_path / "tiny.yaml"), "--workers", "2"])
    assert "sweep status takes only --out" in capsys.readouterr().err


def test_each_base_may_have_seeds_of_its_own(tmp_path):
    (tmp_path / "decay.yaml").write_text(f"extends: {DIGITS}\noptimizer:\n  weight_decay: 0.0001\n")
    path = write_sweep(tmp_path, base=None, bases={"plain": str(DIGITS), "decay": "decay.yaml"}, seeds={"plain": [1, 2, 3], "decay": [7]})
    names = [run.name for run in Sweep.load(path).runs]
    assert names == ["plain,seed=1", "plain,seed=2", "plain,seed=3", "decay,seed=7"]


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"seeds": {"plain": [1]}}, "seeds: seeds per base need bases"),
        ({"base": None, "bases": {"a": str(DIGITS), "b": str(DIGITS)}, "seeds": {"a": [1]}}, r"no seeds for base\(s\) b"),
        ({"base": None, "bases": {"a": str(DIGITS)}, "seeds": {"a": [1], "c": [2]}}, "seeds.c"),
        ({"threads": 0}, "threads: expected the torch threads of each run, an int >= 1, got 0"),
    ],
)
def test_per_base_seeds_and_threads_are_checked(tmp_path, sections, expected):
    with pytest.raises(ConfigError, match=expected):
        Sweep.load(write_sweep(tmp_path, **sections))


def test_a_sweep_file_sets_its_runs_threads(tmp_path):
    assert Sweep.load(write_sweep(tmp_path)).file.threads == 1
    assert Sweep.load(write_sweep(tmp_path, threads=2)).file.threads == 2

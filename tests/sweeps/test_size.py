"""A sweep file that would make too many runs is refused from its lists' sizes, before any run is made or anything written."""

import tracemalloc

import pytest

from spikedyn.cli import main
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.config import ConfigError
from tests.sweeps.sweeps import write_sweep

#: 3 keys x 100 values: 1,000,000 combinations, which took minutes and most of a gigabyte to expand and validate.
HUGE = {"model.neuron.tau": [2.0 + i for i in range(100)], "optimizer.lr": [1e-4 * (i + 1) for i in range(100)],
        "optimizer.weight_decay": [1e-6 * i for i in range(100)]}  # fmt: skip


@pytest.mark.drill
def test_a_grid_of_a_million_runs_is_refused_naming_its_count_with_little_memory_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "runs"
    # the modules a refused sweep needs, imported beforehand (reporting a user error imports Lightning)
    assert main(["sweep", str(write_sweep(tmp_path, seeds=[1, 1])), "--dry-run", "--out", str(out)]) == 2
    path = write_sweep(tmp_path, grid=HUGE)
    capsys.readouterr()
    tracemalloc.start()
    try:
        code = main(["sweep", str(path), "--dry-run", "--out", str(out)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"spikedyn sweep: {path}: the sweep would make 1,000,000 runs")
    assert "grid 100 x 100 x 100" in captured.err and "more than max_runs (10,000)" in captured.err and "max_runs: 1000000" in captured.err
    assert peak < 20 * 2**20, f"refusing the sweep allocated {peak / 2**20:.0f} MiB: it expanded the grid"
    assert not out.exists()


@pytest.mark.drill
def test_max_runs_in_the_file_raises_the_limit_and_a_bad_one_is_named(tmp_path):
    grid = {"model.neuron.tau": [2.0 + i for i in range(100)], "optimizer.lr": [1e-4 * (i + 1) for i in range(60)]}
    variants = [{}, {"model.neuron.tau_shape": "channel"}]
    with pytest.raises(ConfigError, match=r"would make 12,000 runs \(1 base\(s\) x grid 100 x 60 x 2 variant\(s\) x 1 seed\(s\)\)"):
        Sweep.load(write_sweep(tmp_path, grid=grid, variants=variants))
    assert len(Sweep.load(write_sweep(tmp_path, grid=grid, variants=variants, max_runs=12_000)).runs) == 12_000
    for bad, text in ((0, "0"), ("many", "'many'"), (True, "True")):
        with pytest.raises(ConfigError, match=f"max_runs: expected the most runs the file may make, an int >= 1, got {text}$"):
            Sweep.load(write_sweep(tmp_path, max_runs=bad))

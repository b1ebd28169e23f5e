"""The slurm executor's submission path, run by submitit's local executor: each task trains its run in its folder."""

import functools
import os
import time

import pytest
from submitit.helpers import DelayedSubmission

from spikedyn.cli import main
from spikedyn.sweeps import slurm
from spikedyn.sweeps.slurm import SweepTask
from spikedyn.sweeps.sweep import Sweep
from tests.sweeps.sweeps import summary, write_sweep


def test_a_preempted_task_requeues_the_same_run_as_a_fresh_task():
    task = SweepTask()
    again = task.checkpoint("the config", "runs/sweep/seed=1", 2)
    assert isinstance(again, DelayedSubmission) and isinstance(again.function, SweepTask) and again.function is not task
    assert again.args == ("the config", "runs/sweep/seed=1", 2) and not again.function.requeued and task.requeued


@pytest.mark.slow
def test_a_two_run_sweep_submitted_through_submitit_trains_both_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(slurm, "submit", functools.partial(slurm.submit, cluster="local"))  # submitit's local stand-in for SLURM
    monkeypatch.setattr(slurm, "require_slurm", lambda: None)
    path = write_sweep(tmp_path, seeds=[1, 2], slurm={"partition": "ignored_by_the_local_executor", "timeout_min": 10, "cpus_per_task": 1})
    out = tmp_path / "runs"
    assert main(["sweep", str(path), "--executor", "slurm", "--out", str(out)]) == 0
    assert "submitted 2 run(s) to SLURM as job array" in capsys.readouterr().out
    sweep = Sweep.load(path, out)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and any(state.state != "completed" for state in sweep.states().values()):
        time.sleep(0.2)
    for run in sweep.runs:
        assert summary(sweep.run_dir(run))["run_dir"] == str(sweep.run_dir(run))
    assert main(["sweep", "status", str(path), "--out", str(out)]) == 0
    assert "2 runs: 0 pending, 0 running, 0 stopped, 2 completed, 0 failed" in capsys.readouterr().out
    assert (out / "tiny" / "sweep.yaml").read_bytes() == path.read_bytes()


def test_a_requeued_task_leaves_its_run_stopped_not_failed_and_exits_as_submitit_does(tmp_path, monkeypatch):
    from spikedyn.sweeps import task as task_module

    task, folder = SweepTask(), tmp_path / "seed=1"

    def preempted(config, run_dir, threads):
        task.checkpoint(config, run_dir, threads)  # what submitit calls on SIGUSR2, before it exits the job
        raise SystemExit(-1)

    monkeypatch.setattr(task_module, "train_run", preempted)
    with pytest.raises(SystemExit):
        task("the config", str(folder))
    assert summary(folder)["status"] == "interrupted" and "requeued by submitit" in summary(folder)["error"]

    def exits(config, run_dir, threads):
        raise SystemExit(3)

    monkeypatch.setattr(task_module, "train_run", exits)
    with pytest.raises(SystemExit):
        SweepTask()("the config", str(tmp_path / "other"))  # not requeued: nothing is written
    assert not (tmp_path / "other").exists()


def _fake_slurm(folder, monkeypatch, sbatch: str) -> None:
    """``sbatch`` (the given shell body) and ``srun`` on the PATH, as on a cluster's login node."""
    folder.mkdir()
    for name, body in (("sbatch", sbatch), ("srun", "exit 0")):
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


def test_the_job_array_asks_sbatch_for_the_sweep_files_resources(tmp_path, monkeypatch, capsys):
    _fake_slurm(tmp_path / "bin", monkeypatch, f'cp "$1" {tmp_path}/job.sh; echo "Submitted batch job 4242"')
    path = write_sweep(tmp_path, seeds=[1, 2, 3], slurm={"partition": "gpu", "timeout_min": 90, "gpus_per_node": 1, "array_parallelism": 2})
    assert main(["sweep", str(path), "--executor", "slurm", "--out", str(tmp_path / "runs")]) == 0
    assert "submitted 3 run(s) to SLURM as job array 4242" in capsys.readouterr().out
    script = (tmp_path / "job.sh").read_text()
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=90", "#SBATCH --gpus-per-node=1", "#SBATCH --array=0-2%2", "#SBATCH --job-name=spikedyn-tiny"):
        assert line in script


def test_a_job_array_slurm_refuses_is_one_line_naming_the_sweep_file(tmp_path, monkeypatch, capsys):
    _fake_slurm(tmp_path / "bin", monkeypatch, 'echo "sbatch: error: invalid partition specified: gpux" >&2; exit 1')
    path = write_sweep(tmp_path, slurm={"partition": "gpux"})
    assert main(["sweep", str(path), "--executor", "slurm", "--out", str(tmp_path / "runs")]) == 2
    assert f"spikedyn sweep: {path}: SLURM refused the job array: sbatch: error: invalid partition specified: gpux" in capsys.readouterr().err


@pytest.mark.drill
@pytest.mark.parametrize("command", [["sweep", "SWEEP"], ["sweep", "SWEEP", "--dry-run"], ["study", "pooling"]])
def test_without_slurm_the_slurm_executor_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys, command):
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no sbatch, no srun
    path, out = write_sweep(tmp_path), tmp_path / "out"
    capsys.readouterr()
    assert main([str(path) if word == "SWEEP" else word for word in command] + ["--executor", "slurm", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"spikedyn {command[0]}: --executor slurm submits through SLURM, whose sbatch and srun this machine "
                            "does not have on its PATH; run the sweep on the cluster's login node, or use --executor local\n")  # fmt: skip
    assert captured.out == "" and not out.exists()


@pytest.mark.drill
def test_a_login_node_without_srun_is_told_which_command_is_missing(tmp_path, monkeypatch, capsys):
    _fake_slurm(tmp_path / "bin", monkeypatch, 'echo "Submitted batch job 1"')
    (tmp_path / "bin" / "srun").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert main(["sweep", str(write_sweep(tmp_path)), "--executor", "slurm", "--out", str(tmp_path / "out")]) == 2
    assert "whose srun this machine does not have on its PATH" in capsys.readouterr().err and not (tmp_path / "out").exists()

"""The local executor: runs trained by worker processes, skipped once completed, failures reported and not retried unasked."""

import signal
import subprocess
import sys
import time

import pytest

from spikedyn.cli import main
from spikedyn.sweeps import local
from tests.sweeps.sweeps import TINY, summary, write_sweep



def _sweep(capsys, *args: str) -> tuple[int, str]:
    """``spikedyn sweep ARGS`` in this process (its workers are processes of their own): (exit status, what it printed)."""
    code = main(["sweep", *args])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_two_workers_train_every_run_and_a_second_sweep_trains_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, grid={"model.neuron.tau": [2.0, 4.0]})
    out = tmp_path / "runs"
    code, printed = _sweep(capsys, str(path), "--workers", "2", "--out", str(out))
    assert code == 0, printed
    runs = [out / "tiny" / "tau=2.0,seed=1", out / "tiny" / "tau=4.0,seed=1"]
    for run in runs:
        assert summary(run)["status"] == "completed"
        log = (run / "train.log").read_text()
        assert log.startswith("== ") and "(1 threads)" in log and f"written to {run}" in log  # the sweep's threads: 1 by default
        assert f"written to {run}" not in printed  # a worker's output goes to its log, not to the terminal
    assert (out / "tiny" / "sweep.yaml").read_bytes() == path.read_bytes()
    assert "2 runs: 0 pending, 0 running, 0 stopped, 2 completed, 0 failed" in printed

    records = {run: (run / "metrics.jsonl").read_bytes() for run in runs}
    code, printed = _sweep(capsys, str(path), "--workers", "2", "--out", str(out))
    assert code == 0 and "to train: 0 run(s)" in printed and "started" not in printed
    assert {run: (run / "metrics.jsonl").read_bytes() for run in runs} == records
    assert all((run / "train.log").read_text().count("== ") == 1 for run in runs)

    code, printed = _sweep(capsys, "status", str(path), "--out", str(out))
    assert code == 0 and "2 completed, 0 failed" in printed
    assert [line.split()[:3] for line in printed.splitlines()[1:3]] == [["tau=2.0,seed=1", "completed", "1/1"], ["tau=4.0,seed=1", "completed", "1/1"]]
    code, printed = _sweep(capsys, str(path), "--dry-run", "--out", str(out))
    assert code == 0 and "to train: 0 run(s)" in printed

    # the same folder, a changed sweep: its completed runs are not the new sweep's, so nothing runs
    for changed, key in (({"optimizer.lr": 0.01}, "optimizer.lr"), ({"trainer.max_epochs": 2}, "trainer.max_epochs")):
        write_sweep(tmp_path, grid={"model.neuron.tau": [2.0, 4.0]}, overrides={**TINY, **changed})
        assert main(["sweep", str(path), "--out", str(out)]) == 2
        error = capsys.readouterr().err
        assert f"holds runs trained with another config than {path}" in error and f"tau=2.0,seed=1 (differs in {key})" in error
    assert {run: (run / "metrics.jsonl").read_bytes() for run in runs} == records


@pytest.mark.slow
def test_a_failing_run_is_reported_and_retried_only_when_asked(tmp_path, capsys):
    path = write_sweep(tmp_path, variants=[{"records.weights": ["no_such_layer"]}])  # fails when the model is built
    out = tmp_path / "runs"
    code, printed = _sweep(capsys, str(path), "--out", str(out))
    assert code == 1
    [run] = [p for p in (out / "tiny").iterdir() if p.is_dir() and not p.name.startswith(".")]  # not .started/
    error = "records.weights names 'no_such_layer', which is not a module with a weight"
    assert f"{run.name}: failed: {error}" in printed
    assert summary(run)["status"] == "failed" and summary(run)["error"].startswith(error)

    code, printed = _sweep(capsys, str(path), "--out", str(out))
    assert code == 1 and "to train: 0 run(s)" in printed
    assert "not retried (pass --retry-failed" in printed and f"  {run.name}: {error}" in printed
    assert (run / "train.log").read_text().count("== ") == 1
    code, printed = _sweep(capsys, "status", str(path), "--out", str(out))
    assert "0 completed, 1 failed" in printed and error in printed

    code, printed = _sweep(capsys, str(path), "--retry-failed", "--out", str(out))
    assert code == 1 and f"{run.name}: failed: {error}" in printed
    assert (run / "train.log").read_text().count("== ") == 2


@pytest.mark.slow
@pytest.mark.drill
def test_ctrl_c_stops_the_workers_which_record_interrupted_runs_and_the_sweep_exits_130(tmp_path, capsys):
    path = write_sweep(tmp_path, overrides={**TINY, "trainer.max_epochs": 50}, seeds=[1, 2])
    out = tmp_path / "runs"
    sweep = subprocess.Popen([sys.executable, "-m", "spikedyn.cli", "sweep", str(path), "--workers", "2", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sweep.poll() is None and not all(_epochs(out / "tiny" / f"seed={seed}") >= 1 for seed in (1, 2)):
        time.sleep(0.05)
    sweep.send_signal(signal.SIGINT)
    printed, _ = sweep.communicate(timeout=120)
    assert sweep.returncode == 130, printed
    for seed in (1, 2):
        run = out / "tiny" / f"seed={seed}"
        assert summary(run)["status"] == "interrupted", printed
        assert f"seed={seed}: interrupted; it resumes when the sweep is run again" in printed
    assert "2 runs: 0 pending, 0 running, 2 stopped" in _sweep(capsys, "status", str(path), "--out", str(out))[1]


def _epochs(run) -> int:
    try:
        return len((run / "metrics.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0


def test_a_worker_that_missed_the_sigint_gets_another(monkeypatch):
    monkeypatch.setattr(local, "RESEND_S", 0.2)
    deaf_once = "import signal, time\nsignal.signal(signal.SIGINT, lambda *_: signal.signal(signal.SIGINT, signal.SIG_DFL))\nprint(flush=True)\ntime.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", deaf_once], stdout=subprocess.PIPE)
    process.stdout.readline()
    local.interrupt([process])
    assert process.returncode == -signal.SIGINT


@pytest.mark.slow
def test_one_or_two_workers_give_byte_identical_metrics(tmp_path, capsys):
    # before: threads were cores // workers, so a run's metrics changed with --workers (float reductions)
    path = write_sweep(tmp_path, grid={"model.neuron.tau": [2.0, 4.0]})
    metrics = {}
    for workers in ("1", "2"):
        out = tmp_path / f"runs{workers}"
        code, printed = _sweep(capsys, str(path), "--workers", workers, "--out", str(out))
        assert code == 0, printed
        metrics[workers] = {run.name: (run / "metrics.jsonl").read_bytes() for run in sorted((out / "tiny").glob("tau=*"))}
        assert all(summary(run)["torch_threads"] == 1 for run in (out / "tiny").glob("tau=*"))
    assert metrics["1"] == metrics["2"] and len(metrics["1"]) == 2

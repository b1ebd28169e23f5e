"""Train a loaded sweep with an executor: what ``spikedyn sweep`` and ``spikedyn study`` both do."""

from __future__ import annotations

from collections.abc import Callable

from spikedyn.sweeps import EXECUTORS
from spikedyn.sweeps.report import counts, missing_lines, plan
from spikedyn.sweeps.sweep import Sweep


def train_sweep(
    sweep: Sweep,
    executor: str = "local",
    workers: int = 1,
    retry_failed: bool = False,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """Validate every run, then train those not completed; 0 when all are completed, 1 otherwise (failed, missing, ...), 130 when interrupted.

    The slurm executor submits the runs and returns 0 at once: ``spikedyn sweep status`` follows them.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "slurm":
        from spikedyn.sweeps.slurm import require_slurm

        require_slurm()  # before anything is written, --dry-run included
    configs = sweep.configs()  # every run's config is valid before anything runs
    states = sweep.states()
    sweep.check_folders(configs, states)
    runs = sweep.to_train(states, retry_failed)
    say(plan(sweep, states, runs, retry_failed))
    if dry_run:
        return 0
    if runs:
        sweep.write_copy()
        if executor == "slurm":
            from spikedyn.sweeps.slurm import SUBMITIT_FOLDER, submit

            jobs = submit(sweep, runs, configs)
            say(f"submitted {len(jobs)} run(s) to SLURM as job array {jobs[0].job_id.split('_')[0]} "
                f"(logs in {sweep.folder / SUBMITIT_FOLDER}); follow them with: spikedyn sweep status {sweep.file.path}")  # fmt: skip
            return 0
        from spikedyn.sweeps.local import cores, run_local

        workers = min(workers, len(runs))
        threads = sweep.file.threads
        busy = f"; {workers * threads} threads on {cores()} cores" if workers * threads > cores() else ""
        say(f"training {len(runs)} run(s), {workers} at once, {threads} thread(s) each (the sweep's threads){busy}")
        code = run_local(sweep, runs, workers, say=say)
        if code == 130:
            return code
        states = sweep.states()
        say("\n".join([f"sweep {sweep.file.name}: {counts(states)}", *missing_lines(states)]))
    return 0 if all(state.state == "completed" for state in states.values()) else 1

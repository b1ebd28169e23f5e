"""The slurm executor: the runs to train go to SLURM as one submitit job array; each task trains its run in its folder.

A task trains in-process with the exact-folder option of :func:`~spikedyn.training.train.train`,
so a task started again (requeued, or submitted by a later ``spikedyn sweep``) resumes its run
from the last checkpoint, and one whose run is finished does nothing. On preemption or
timeout submitit calls :meth:`SweepTask.checkpoint`, which requeues the same run.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from submitit.helpers import Checkpointable, DelayedSubmission

from spikedyn.sweeps.expand import SweepRun
from spikedyn.sweeps.slurm_parameters import executor_arguments
from spikedyn.sweeps.sweep import Sweep
from spikedyn.training.runs.listing import mark_started
from spikedyn.training.config.schema import ExperimentConfig

SUBMITIT_FOLDER = ".submitit"  # submitit's pickles and the tasks' logs, in the sweep's folder


class SweepTask(Checkpointable):
    """One run of a sweep as a submitit job: trains it in its folder; a preempted or timed-out job is requeued and resumes there."""

    def __init__(self) -> None:
        self.requeued = False

    def __call__(self, config: ExperimentConfig, run_dir: str, threads: int = 1) -> str:
        from spikedyn.sweeps.task import train_run
        from spikedyn.training.runs.folder import RunFolder
        from spikedyn.training.runs.stops import RunInterrupted

        try:
            return str(train_run(config, run_dir, threads).get("status"))
        except (SystemExit, RunInterrupted):
            if not self.requeued:
                raise
            # submitit exits the job after checkpoint() has requeued it: the run is stopped, not failed
            RunFolder(run_dir).update_summary(status="interrupted", error="preempted or timed out; requeued by submitit, it resumes from its last checkpoint")
            sys.exit(-1)  # as submitit exits, so that it records no result for a job that goes on

    def checkpoint(self, config: ExperimentConfig, run_dir: str, threads: int = 1) -> DelayedSubmission:
        """The same run again, as a fresh task: it resumes from the run folder's last checkpoint."""
        self.requeued = True
        return DelayedSubmission(SweepTask(), config, run_dir, threads)


#: What submitit needs on the PATH: sbatch submits the job array, srun runs its tasks (submitit refuses to start without it).
SLURM_COMMANDS = ("sbatch", "srun")


def require_slurm() -> None:
    """Say so, before anything is written, where SLURM's commands are missing (a RuntimeError naming them)."""
    absent = [command for command in SLURM_COMMANDS if shutil.which(command) is None]
    if absent:
        raise RuntimeError(f"--executor slurm submits through SLURM, whose {' and '.join(absent)} this machine does not have on its PATH; "
                           "run the sweep on the cluster's login node, or use --executor local")  # fmt: skip


def submit(sweep: Sweep, runs: list[SweepRun], configs: dict[str, ExperimentConfig], cluster: str = "slurm") -> list[Any]:
    """Submit ``runs`` as one job array with the sweep file's ``slurm:`` resources; the submitit jobs.

    ``cluster="local"`` runs the same submission on this machine (submitit's LocalExecutor), for tests.
    """
    import submitit
    from submitit.core.utils import FailedSubmissionError, UncompletedJobError

    constructor, parameters = executor_arguments(sweep.file.slurm)
    parameters.setdefault("name", f"spikedyn-{sweep.file.name}")
    executor = submitit.AutoExecutor(folder=Path(sweep.folder) / SUBMITIT_FOLDER, cluster=cluster, **constructor)
    executor.update_parameters(**parameters)
    try:
        with executor.batch():
            jobs = [executor.submit(SweepTask(), configs[run.name], str(sweep.run_dir(run)), sweep.file.threads) for run in runs]
    except (FailedSubmissionError, UncompletedJobError) as error:  # sbatch refused the job (its message says why)
        raise RuntimeError(f"{sweep.file.path}: SLURM refused the job array: {str(error).strip()}") from error
    for run in runs:  # queued: pending until its task starts; a folder lost after this is told missing
        sweep.run_dir(run).mkdir(parents=True, exist_ok=True)
        mark_started(sweep.run_dir(run))
    return jobs

"""Train one experiment into a run folder, or resume a run where its last checkpoint left it."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from contextlib import ExitStack, suppress
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.fabric.utilities.rank_zero import _get_rank
from lightning.pytorch.loggers import Logger

from spikedyn.layers import TemporalEffectiveBatchNorm2d
from spikedyn.training.runs.checkpoint import AtomicModelCheckpoint, load_checkpoint
from spikedyn.training.config import ConfigError, config_differences, save_config
from spikedyn.training.config.resolve import resolved
from spikedyn.training.datamodule import SpikeDataModule
from spikedyn.training.runs.divergence import DivergenceGuard
from spikedyn.training.runs.digest import check_checkpoint_config
from spikedyn.training.loggers import build_loggers, check_logger_packages, replaying
from spikedyn.training.module import SpikingClassifier
from spikedyn.training.progress import EpochProgressBar, console_callback
from spikedyn.training.protocols import RULES, SELECTED_BY
from spikedyn.training.runs.records import RunRecorder
from spikedyn.training.runs.resume import experiment_changes
from spikedyn.training.runs.folder import RunFolder, write_json
from spikedyn.training.runs.lock import RunFolderLost, RunLock, check_run_held
from spikedyn.training.config.schema import ExperimentConfig
from spikedyn.training.runs.stops import stop_reason


def _trainer(config: ExperimentConfig, run: RunFolder, recorder: RunRecorder, loggers: list[Logger]) -> pl.Trainer:
    settings = config.trainer
    console = console_callback(settings.progress_bar)
    callbacks: list[pl.Callback] = [
        recorder,
        AtomicModelCheckpoint(  # the epoch the protocol reports: best validation (B), maximum test (A)
            dirpath=run.checkpoints, filename="best", monitor=SELECTED_BY[config.protocol], mode="max", save_top_k=1,
            enable_version_counter=False,
        ),
        # A callback of its own, every epoch: Lightning's save_last writes "last" only in the epochs
        # that also write a best checkpoint, so the final weights of a run were often not saved.
        AtomicModelCheckpoint(dirpath=run.checkpoints, filename="last", save_top_k=1, enable_version_counter=False),
        # after the records, before the checkpoints (Lightning runs checkpoint callbacks last)
        DivergenceGuard(recorder, settings.on_divergence, SELECTED_BY[config.protocol]),
        console,  # the live bar, or one line per epoch
    ]  # fmt: skip
    return pl.Trainer(
        max_epochs=settings.max_epochs,
        accelerator=settings.accelerator,
        devices=settings.devices,
        num_nodes=settings.num_nodes,
        strategy=settings.strategy,
        precision=settings.precision,
        gradient_clip_val=settings.gradient_clip_val,
        sync_batchnorm=settings.sync_batchnorm,
        deterministic=settings.deterministic,
        callbacks=callbacks,
        logger=loggers or False,
        enable_progress_bar=isinstance(console, EpochProgressBar),
        enable_model_summary=False,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,
        default_root_dir=run.path,
        log_every_n_steps=1,
    )


#: Set by the first process of a run; the other processes of a distributed run write into the same folder.
RUN_DIR_VARIABLE = "SPIKEDYN_RUN_DIR"


def _job_id() -> str | None:
    """The id that all processes of a torchrun or SLURM job share, if any ("none" is torchrun's placeholder)."""
    job = os.environ.get("TORCHELASTIC_RUN_ID") or os.environ.get("SLURM_JOB_ID")
    return None if job in (None, "", "none") else job


def _run_folder(
    config: ExperimentConfig, output_dir: str | os.PathLike[str] | None, resume: str | os.PathLike[str] | None, held: ExitStack
) -> tuple[RunFolder, bool]:
    """(the run's folder, whether to continue it): the one resumed, the one a parent process made, or a new one.

    The first process of a run claims its folder (:class:`RunLock`, held in ``held`` until the
    run ends) before it writes anything there, so a second process for the same folder is
    refused by name. Under torchrun or SLURM every process starts on its own; they agree on a
    folder named after the job, and only global rank 0 claims it and writes the config and
    environment. A requeued job finds its folder again and continues from its last checkpoint;
    a folder of that name that holds another config, or records without a checkpoint, is
    refused rather than overwritten.
    """
    first = (_get_rank() or 0) == 0
    if resume is not None:
        run = RunFolder.open(resume)
        held.enter_context(RunLock(run.path))
        return run, True
    if RUN_DIR_VARIABLE in os.environ:
        return RunFolder(os.environ[RUN_DIR_VARIABLE]), False
    job = _job_id()
    if job is None:
        run = RunFolder.create(config, output_dir)
        held.enter_context(RunLock(run.path))
        return run, False
    folder = Path(output_dir if output_dir is not None else config.output_dir) / f"{config.name}-job{job}"
    if first:
        held.enter_context(RunLock(folder))
    existed = (folder / "config.yaml").exists()
    run = RunFolder.create(config, output_dir, job=job, write=first)
    if existed:
        if config_differences(run.config(), config):
            raise ConfigError(f"{run.path} holds a run of job {job} with another config; set --out to another folder")
        if not run.last_checkpoint.exists() and run.metrics_jsonl.exists():
            raise ConfigError(f"{run.path} already holds records of job {job} but no checkpoint to continue from; set --out to another folder")
    return run, existed


def _exact_run_folder(config: ExperimentConfig, run_dir: str | os.PathLike[str], held: ExitStack) -> tuple[RunFolder, bool]:
    """(the run in exactly ``run_dir``, whether to continue it from its last checkpoint).

    The folder is claimed (:class:`RunLock`) before anything is written. A folder without a
    checkpoint starts (again) with ``config``; one with a checkpoint continues, and must hold
    the same experiment: only the settings of :data:`~spikedyn.training.runs.resume.RESUME_KEYS` (a
    longer ``trainer.max_epochs``, the console, the loggers) may differ. The other processes of
    a distributed run write nothing and follow the checkpoint that rank 0 sees.
    """
    run = RunFolder(run_dir)
    if (_get_rank() or 0) != 0:
        return run, run.last_checkpoint.exists()
    held.enter_context(RunLock(run.path))
    if run.config_file.exists():
        changed = experiment_changes(run.config(), config)
        if changed:
            raise ConfigError(f"{run.path} holds a run with another config (it differs in {', '.join(changed)}); train into another folder")
    if run.last_checkpoint.exists():
        return run, True
    run.write_start(config)  # new, or killed before its first checkpoint: it starts over
    return run, False


def _epochs_done(run: RunFolder, config: ExperimentConfig) -> int:
    """Epochs the run's last checkpoint has finished; a damaged checkpoint, or one of another experiment, stops here."""
    checkpoint = load_checkpoint(run.last_checkpoint)
    check_checkpoint_config(checkpoint, config, str(run.last_checkpoint))
    return int(checkpoint["epoch"]) + 1


def train(
    config: ExperimentConfig,
    output_dir: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    run_dir: str | os.PathLike[str] | None = None,
) -> RunFolder:
    """Train ``config`` in a new run folder, or continue the run folder ``resume`` (then its own config is used).

    ``run_dir`` trains in exactly that folder (sweeps use it, so a run can be found again by
    name): a new folder starts the run there, an interrupted one continues from its last
    checkpoint exactly as ``resume`` does, and a finished one is left as it is.

    The dataset and the model are built before anything is written, so a missing dataset or a
    bad model option leaves no folder behind; a damaged checkpoint stops a resume before the
    folder changes; a run that already finished its epochs is left as it is; a run that ends
    early is recorded as interrupted, diverged or failed, and re-raises (a :class:`RunStopped`
    with one line to show, where the user can act on it).
    """
    if run_dir is not None and (output_dir is not None or resume is not None):
        raise ValueError("train: run_dir is the run's folder itself; pass it without output_dir or resume")
    config = resolved(config)  # the dataset options it trains with, as its config.yaml will say
    check_logger_packages(config)
    pl.seed_everything(config.seed, workers=True, verbose=False)
    data = SpikeDataModule(config.data, config.seed, config.protocol)
    module = SpikingClassifier(config, data.info, tuple(data.eval_splits))
    split_sizes = data.split_sizes()
    if config.trainer.sync_batchnorm and any(isinstance(m, TemporalEffectiveBatchNorm2d) for m in module.modules()):
        raise ConfigError("trainer.sync_batchnorm would replace TEBN layers by plain SyncBatchNorm (losing their per-step scale); use model.options.norm=bn or leave it off")
    # a resumed run's checkpoint is checked before its folder is claimed: a damaged one changes nothing there
    resumed = RunFolder.open(resume) if resume is not None else None
    done = _epochs_done(resumed, config) if resumed is not None and resumed.last_checkpoint.exists() else None
    with ExitStack() as held:
        if run_dir is not None:
            run, continuing = _exact_run_folder(config, run_dir, held)
        else:
            run, continuing = _run_folder(config, output_dir, resume, held)
        named = resume is not None or run_dir is not None  # a folder the caller named, to continue
        writes = (_get_rank() or 0) == 0
        if writes and continuing:
            _repair_summary(run)
        checkpoint = None
        if continuing and run.last_checkpoint.exists():
            done = _epochs_done(run, config) if done is None else done
            if named and config.trainer.max_epochs < done:
                raise ConfigError(f"{run.path} has finished {done} epochs; trainer.max_epochs={config.trainer.max_epochs} would drop some of them (resume with max_epochs >= {done})")
            if named and config.trainer.max_epochs == done:
                if resume is not None:
                    print(f"{run.path} has already finished its {done} epochs: nothing to train (pass trainer.max_epochs=N above {done} to train longer)", file=sys.stderr)
                elif writes and run.summary().get("status") != "completed":  # stopped after its last checkpoint, before saying so
                    _mark_completed(run)
                return run
            checkpoint = str(run.last_checkpoint)
        if named and continuing and writes and config_differences(run.config(), config):
            save_config(config, run.config_file)  # a longer max_epochs or new settings, once the checkpoint is known to be good
        _fit(config, run, module, data, checkpoint, split_sizes)
    return run


def _fit(config: ExperimentConfig, run: RunFolder, module: SpikingClassifier, data: SpikeDataModule, checkpoint: str | None, split_sizes: dict[str, int]) -> None:
    """Train in ``run`` (from ``checkpoint``, if any), keeping its summary's status true to how it ends."""
    joined = RUN_DIR_VARIABLE in os.environ
    try:
        os.environ[RUN_DIR_VARIABLE] = str(run.path)  # processes that Lightning launches for DDP join this run
        loggers = build_loggers(config, run)
        recorder = RunRecorder(run, config.records, config.protocol, replay=replaying(loggers))
        trainer = _trainer(config, run, recorder, [logger for _, logger in loggers])
        started = time.perf_counter()
        previous_wall = float(run.summary().get("wall_time_s", 0.0))
        if trainer.is_global_zero:
            run.update_summary(name=config.name, status="running", pid=os.getpid(), host=socket.gethostname(),
                               run_dir=str(run.path), resumed=checkpoint is not None, protocol=config.protocol,
                               protocol_rule=RULES[config.protocol], split_sizes=split_sizes, error=None,
                               torch_threads=torch.get_num_threads())  # fmt: skip
        try:
            trainer.fit(module, datamodule=data, ckpt_path=checkpoint, weights_only=True)
        except BaseException as error:
            if isinstance(error, RunFolderLost):
                raise  # recording anything would recreate the lost folder in part
            status, message, stopped = stop_reason(error, trainer, run.path)
            if trainer.is_global_zero:
                with suppress(OSError):  # a full disk may refuse this too: the message still reaches the user
                    run.update_summary(status=status, error=message, wall_time_s=previous_wall + time.perf_counter() - started)
            if stopped is not None:
                _restore_sigint()
                raise stopped from error
            raise
    finally:
        if not joined:
            os.environ.pop(RUN_DIR_VARIABLE, None)
    if trainer.is_global_zero:
        check_run_held(run.path)
        _mark_completed(run, wall_time_s=previous_wall + time.perf_counter() - started)


def _repair_summary(run: RunFolder) -> None:
    """Rewrite a damaged summary.json from the run's records, saying so; refuse a run whose records cannot rebuild it."""
    summary, damage = run.read_summary()
    if damage is None:
        return
    if summary.get("status") == "damaged":
        raise ConfigError(f"{summary['error']}; the run cannot be continued as it is (its checkpoints are in {run.checkpoints})")
    write_json(run.summary_file, summary)
    print(f"{damage}; rebuilt from its records (config.yaml and metrics.jsonl)", file=sys.stderr)


def _mark_completed(run: RunFolder, **fields: object) -> None:
    """Say in the summary that the run has finished all its epochs, and where its checkpoints are."""
    run.update_summary(status="completed", error=None, checkpoints={"last": str(run.last_checkpoint), "best": str(run.best_checkpoint)}, **fields)


def _restore_sigint() -> None:
    """Lightning ignores SIGINT while it shuts down after a Ctrl-C; give the next one back to Python."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)

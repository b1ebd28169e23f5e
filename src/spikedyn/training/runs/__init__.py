"""A run folder's life: its files, its lock, checkpoints, records, resume, stops, divergence, listing.

Modules, lowest first (each imports only those above it here, plus :mod:`spikedyn.training.config`,
:mod:`spikedyn.training.protocols` and :mod:`spikedyn.training.layer_stats`)::

    folder.py       RunFolder: the paths and small files of one run (config, environment, status)
    lock.py         one process trains in a run folder at a time
    checkpoint.py   checkpoints written atomically with CRCs, loaded with weights_only=True
    summary.py      the summary fields computed from a run's history
    records.py      the per-epoch records: metrics, tau/IMP snapshots, summary.json
    stops.py        runs that end early for a reason the user can act on
    divergence.py   a loss or a tau that diverged: stop or warn
    resume.py       what a resumed run may change
    digest.py       the experiment digest a checkpoint carries
    listing.py      the runs under a folder with their status; runs a sweep lost

This package exports the names of :mod:`.listing` (the module ``spikedyn.training.runs`` was
before it became a package).
"""

from spikedyn.training.runs.listing import (
    RUN_MARK,
    STARTED,
    format_runs,
    list_runs,
    lost_reason,
    mark_started,
    missing_runs,
    process_alive,
    run_status,
)

__all__ = ["RUN_MARK", "STARTED", "format_runs", "list_runs", "lost_reason", "mark_started", "missing_runs", "process_alive", "run_status"]

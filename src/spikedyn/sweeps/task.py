"""One run of a sweep trained in this process, in its own folder: what a local worker and a SLURM array task do."""

from __future__ import annotations

import os
from typing import Any

from spikedyn.training.config.schema import ExperimentConfig


def train_run(config: ExperimentConfig, run_dir: str | os.PathLike[str], threads: int = 1) -> dict[str, Any]:
    """Train ``config`` in exactly ``run_dir`` (new, resumed from its last checkpoint, or left as it is when finished) with
    ``threads`` torch threads (the sweep's, so that its metrics do not depend on how many runs share the machine); its summary."""
    import torch

    from spikedyn.runtime import tune_cpu_allocator
    from spikedyn.training.commands import quiet_lightning
    from spikedyn.training.train import train

    torch.set_num_threads(threads)
    tune_cpu_allocator()
    quiet_lightning()
    return train(config, run_dir=run_dir).summary()

"""Small training runs for the tests: the digits default on a reduced budget, in a subprocess or here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: The default run made cheap: T=2, big batches, no progress bar, no TensorBoard.
FAST = [
    "data.options.time_steps=2",
    "data.batch_size=64",
    "data.eval_batch_size=128",
    "trainer.progress_bar=false",
    "records.tensorboard=false",
]


def cli(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``spikedyn`` in a fresh interpreter (1 torch thread) and return the finished process."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "spikedyn.cli", *args], capture_output=True, text=True, timeout=timeout, env=environment)


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``spikedyn`` in a fresh interpreter without waiting for it."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "spikedyn.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)


def only_run(folder: Path) -> Path:
    """The single run folder written under ``folder``."""
    runs = [p.parent for p in folder.rglob("config.yaml")]
    assert len(runs) == 1, f"expected one run under {folder}, found {runs}"
    return runs[0]


def history(run: Path) -> list[dict]:
    """The per-epoch rows of metrics.jsonl."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]

"""Sweep files for the tests: the offline digits run on the tiniest budget, a few runs at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIGITS = Path(__file__).resolve().parents[2] / "configs" / "digits.yaml"
#: One epoch of one time step in big batches, nothing recorded beyond the metrics: a few seconds a run.
TINY = {
    "data.options.time_steps": 1,
    "trainer.max_epochs": 1,
    "data.batch_size": 256,
    "data.eval_batch_size": 512,
    "trainer.progress_bar": False,
    "records.tensorboard": False,
    "records.firing_rates": False,
}


def write_sweep(folder: Path, **sections: Any) -> Path:
    """``folder/tiny.yaml``: sweep "tiny" on the digits base, TINY overrides, seed 1; ``sections`` replace any of them (None: left out)."""
    data = {"name": "tiny", "base": str(DIGITS), "overrides": dict(TINY), "seeds": [1], **sections}
    data = {key: value for key, value in data.items() if value is not None}
    path = folder / "tiny.yaml"
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML 1.2, which the sweep reader speaks: "1e-3" stays a string
    return path


def summary(run: Path) -> dict[str, Any]:
    """A run folder's summary.json."""
    return json.loads((run / "summary.json").read_text())

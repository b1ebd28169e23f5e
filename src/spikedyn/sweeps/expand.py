"""A sweep's runs: every base x every combination of the grid x every variant x every seed, each named by what varies.

The runs come in that order (bases, then the grid's keys with the first key slowest, then
variants, then seeds). A run's settings apply over its base config in this order: the sweep's
``overrides``, its grid values, its variant, its seed. Without ``variants`` each grid
combination is one run per seed; with them, each combination runs once with every variant.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikedyn.sweeps.naming import key_labels, run_name, value_text
from spikedyn.sweeps.sweep_file import SweepFile
from spikedyn.training.config.types import ConfigError


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its name, base config (and label), the settings it applies over the base, and its seed."""

    name: str
    base: Path
    label: str | None
    settings: dict[str, Any]
    seed: int

    def overrides(self) -> list[str]:
        """The run's settings and seed as the config loader's ``dotted.key=value`` overrides."""
        return [*(f"{key}={_yaml_text(key, value)}" for key, value in self.settings.items()), f"seed={self.seed}"]


def _yaml_text(key: str, value: Any) -> str:
    """``value`` as text the config loader reads back as the same value: JSON (YAML 1.2 reads JSON as it is)."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        raise ConfigError(f"{key}: {value!r} holds a NaN or an infinity inside a list or mapping, which cannot be passed on") from None


def expand(sweep: SweepFile) -> list[SweepRun]:
    """The sweep's runs, in order; a ConfigError naming the file when two runs would get the same name."""
    varying = [*sweep.grid, *(key for variant in sweep.variants for key in variant)]
    labels = key_labels(varying)
    runs: list[SweepRun] = []
    for label, base in sweep.bases.items():
        for values in itertools.product(*sweep.grid.values()):
            combination = dict(zip(sweep.grid, values))
            for variant in sweep.variants or [{}]:
                for seed in sweep.seeds[label]:
                    parts = [label] if label is not None else []
                    parts += [f"{labels[key]}={value_text(value)}" for key, value in (*combination.items(), *variant.items())]
                    name = run_name([*parts, f"seed={seed}"])
                    runs.append(SweepRun(name, base, label, {**sweep.overrides, **combination, **variant}, seed))
    seen: dict[str, SweepRun] = {}
    for run in runs:
        if run.name in seen:
            first = seen[run.name]
            raise ConfigError(f"{sweep.path}: two runs would both be named {run.name!r} (settings {first.settings} and {run.settings}); "
                              "make their values differ by more than punctuation")  # fmt: skip
        seen[run.name] = run
    return runs

"""A sweep file: what it may say, read with the config reader's limits and checked whole before anything runs.

::

    name: tau_study                      # the folder runs/tau_study/ (or under --out)
    description: ...
    base: ../configs/digits.yaml         # relative to this file; or, as one more axis of the grid:
    # bases: {plif: ../configs/a.yaml, lif: ../configs/b.yaml}
    overrides: {trainer.max_epochs: 5}   # every run
    grid: {model.neuron.tau: [2.0, 16.0], optimizer.lr: [0.001, 0.0001]}   # every combination
    variants: [{}, {model.neuron.tau_shape: neuron, regularizer.kind: variance}]  # each, with every combination
    seeds: [1, 2, 3]
    comparisons: [{name: ..., a: {key: value}, b: {key: value}, within: [key]}]    # read by spikedyn table
    slurm: {partition: gpu, timeout_min: 600, gpus_per_node: 1}                   # for --executor slurm

Every problem of the file is reported at once, each naming its key (with the nearest valid
one for a typo); the values of config keys are checked later, run by run, by the config loader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikedyn.sweeps.keys import flatten, key_problem
from spikedyn.sweeps.slurm_parameters import slurm_parameter_problem
from spikedyn.training.config_checks import raise_problems
from spikedyn.training.config_types import ConfigError, Problems, shown, unknown_key
from spikedyn.training.config_yaml import parse_yaml, read_text_limited

TOP_LEVEL = ("name", "description", "base", "bases", "overrides", "grid", "variants", "seeds", "comparisons", "slurm")
COMPARISON_KEYS = ("name", "a", "b", "within")
#: Sweep names and base labels become folder names: letters, digits and ._+- (not first).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class SweepFile:
    """A checked sweep file; ``bases`` maps each label (None for a single ``base:``) to its config file."""

    path: Path
    text: str
    name: str
    description: str
    bases: dict[str | None, Path]
    overrides: dict[str, Any]
    grid: dict[str, list[Any]]
    variants: list[dict[str, Any]]
    seeds: list[int]
    comparisons: list[dict[str, Any]]
    slurm: dict[str, Any]


def _settings(data: Any, where: str, problems: Problems) -> dict[str, Any]:
    """A mapping of dotted config keys to values (``seed`` excepted: the sweep's ``seeds`` set it)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problems.append((where, f"expected a mapping of dotted config keys to values, got {shown(data)}"))
        return {}
    for key in data:
        problem = "set by the sweep's seeds: list the seeds there" if key == "seed" else key_problem(key)
        if problem:
            problems.append((f"{where}.{key}", problem))
    return dict(data)


def _bases(data: dict[str, Any], folder: Path, problems: Problems) -> dict[str | None, Path]:
    if ("base" in data) == ("bases" in data):
        problems.append(("base", "give either base: CONFIG.yaml or bases: {label: CONFIG.yaml, ...}, not both or neither"))
        return {}
    named = data["bases"] if "bases" in data else {None: data["base"]}
    if not isinstance(named, Mapping) or not named:
        problems.append(("bases", f"expected a mapping of labels to config files, got {shown(named)}"))
        return {}
    bases: dict[str | None, Path] = {}
    for label, file in named.items():
        where = "base" if label is None else f"bases.{label}"
        if label is not None and not (isinstance(label, str) and SAFE_NAME.fullmatch(label)):
            problems.append(("bases", f"the label {label!r} names runs' folders: use letters, digits and ._+- only"))
        if not isinstance(file, str) or not file:
            problems.append((where, f"expected the path of a config file (relative to the sweep file), got {shown(file)}"))
        elif not (folder / file).is_file():
            problems.append((where, f"no config file {folder / file}"))
        else:
            bases[label] = folder / file
    return bases


def _distinct(values: list[Any]) -> bool:
    return all(values[i] != values[j] for i in range(len(values)) for j in range(i))


def _grid(data: Any, problems: Problems) -> dict[str, list[Any]]:
    grid = _settings(data, "grid", problems)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            problems.append((f"grid.{key}", f"expected a non-empty list of the values to try, got {shown(values)}"))
        elif not _distinct(values):
            problems.append((f"grid.{key}", f"lists a value twice: {shown(values)}"))
    return {key: values for key, values in grid.items() if isinstance(values, list)}


def _variants(data: Any, problems: Problems) -> list[dict[str, Any]]:
    if data is None:
        return []
    if not isinstance(data, list) or not data:
        problems.append(("variants", f"expected a non-empty list of mappings of dotted config keys to values, got {shown(data)}"))
        return []
    variants = [_settings(item, f"variants[{index}]", problems) for index, item in enumerate(data)]
    if not _distinct(variants):
        problems.append(("variants", "lists the same variant twice"))
    return variants


def _seeds(data: Any, problems: Problems) -> list[int]:
    valid = isinstance(data, list) and data and all(isinstance(seed, int) and not isinstance(seed, bool) for seed in data)
    if not valid:
        problems.append(("seeds", f"expected a non-empty list of integer seeds, e.g. [1, 2, 3], got {shown(data)}"))
        return []
    if not _distinct(data):
        problems.append(("seeds", f"lists a seed twice: {shown(data)}"))
    return list(data)


def _conflicts(overrides: dict[str, Any], grid: dict[str, list[Any]], variants: list[dict[str, Any]], problems: Problems) -> None:
    """A key set in two of overrides, grid and variants would leave its value to the order they apply in: refused."""
    places = {"overrides": set(overrides), "grid": set(grid), "variants": {key for variant in variants for key in variant}}
    names = list(places)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            for key in sorted(places[first] & places[second]):
                problems.append((key, f"set in both {first} and {second}; set it in one of them"))


def _comparisons(data: Any, problems: Problems) -> list[dict[str, Any]]:
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(("comparisons", f"expected a list of {{name, a, b, within}}, got {shown(data)}"))
        return []
    names: set[str] = set()
    for index, item in enumerate(data):
        where = f"comparisons[{index}]"
        if not isinstance(item, Mapping):
            problems.append((where, f"expected a mapping with name, a and b, got {shown(item)}"))
            continue
        problems.extend((f"{where}.{key}", unknown_key(f"{where}.", key, COMPARISON_KEYS)) for key in item if key not in COMPARISON_KEYS)
        problems.extend((where, f"has no {key}") for key in ("name", "a", "b") if key not in item)
        name = item.get("name")
        if "name" in item and (not isinstance(name, str) or name in names):
            problems.append((f"{where}.name", f"expected a name no other comparison has, got {shown(name)}"))
        names.add(str(name))
        for side in ("a", "b"):
            if side in item and (not isinstance(item[side], Mapping) or not item[side]):
                problems.append((f"{where}.{side}", f"expected a mapping of config keys to values, e.g. {{model.neuron.kind: plif}}, got {shown(item[side])}"))
            elif side in item:
                problems.extend((f"{where}.{side}.{key}", problem) for key in flatten(item[side]) if (problem := key_problem(key)))
        within = item.get("within") or []
        within = [within] if isinstance(within, str) else within
        if not isinstance(within, list):
            problems.append((f"{where}.within", f"expected a list of config keys, got {shown(within)}"))
        else:
            problems.extend((f"{where}.within", problem) for key in within if (problem := key_problem(key)))
    return [dict(item) for item in data if isinstance(item, Mapping)]


def _slurm(data: Any, problems: Problems) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problems.append(("slurm", f"expected a mapping of submitit resources (partition, timeout_min, ...), got {shown(data)}"))
        return {}
    problems.extend((f"slurm.{key}", problem) for key in data if (problem := slurm_parameter_problem(key)))
    return dict(data)


def read_sweep_file(path: str | Path) -> SweepFile:
    """The checked sweep file at ``path``; a ConfigError naming the file and listing every problem found."""
    path = Path(path)
    text = read_text_limited(path, "a sweep file")
    data = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with name, base, grid, seeds, ..., got {shown(data)}")
    problems: Problems = [(str(key), unknown_key("", key, TOP_LEVEL)) for key in data if key not in TOP_LEVEL]
    name = data.get("name")
    if not (isinstance(name, str) and SAFE_NAME.fullmatch(name)):
        problems.append(("name", f"expected the sweep's folder name (letters, digits and ._+-), got {shown(name)}"))
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(("description", f"expected text, got {shown(description)}"))
    bases = _bases(data, path.parent, problems)
    overrides = _settings(data.get("overrides"), "overrides", problems)
    grid = _grid(data.get("grid"), problems)
    variants = _variants(data.get("variants"), problems)
    _conflicts(overrides, grid, variants, problems)
    seeds = _seeds(data.get("seeds"), problems)
    comparisons = _comparisons(data.get("comparisons"), problems)
    slurm = _slurm(data.get("slurm"), problems)
    if problems:
        raise_problems(str(path), problems)
    return SweepFile(path, text, name, description, bases, overrides, grid, variants, seeds, comparisons, slurm)

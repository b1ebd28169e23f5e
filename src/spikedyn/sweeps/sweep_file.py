"""A sweep file: what it may say, read with the config reader's limits and checked whole before anything runs.

::

    name: tau_study                      # the folder runs/tau_study/ (or under --out)
    description: ...
    base: ../configs/digits.yaml         # relative to this file; or, as one more axis of the grid:
    # bases: {plif: ../configs/a.yaml, lif: ../configs/b.yaml}
    overrides: {trainer.max_epochs: 5}   # every run
    grid: {model.neuron.tau: [2.0, 16.0], optimizer.lr: [0.001, 0.0001]}   # every combination
    variants: [{}, {model.neuron.tau_shape: neuron, regularizer.kind: variance}]  # each, with every combination
    seeds: [1, 2, 3]                     # with bases, also per base: {plif: [1, 2, 3], lif: [1, 2, 3, 4, 5]}
    threads: 1                           # torch threads of every run, whatever --workers (default 1)
    comparisons: [{name: ..., a: {key: value}, b: {key: value}, within: [key]}]    # read by spikedyn table
    slurm: {partition: gpu, timeout_min: 600, gpus_per_node: 1}                   # for --executor slurm
    max_runs: 20000                      # the most runs the file may make (default 10,000)

Every problem of the file is reported at once, each naming its key (with the nearest valid
one for a typo); the values of config keys are checked later, run by run, by the config loader.
A file that would make more runs than ``max_runs`` is refused first, from the sizes of its lists
alone, before any run is made (a grid typed with one zero too many would otherwise take minutes
and gigabytes to expand).

``threads`` fixes each run's torch thread count: float reductions depend on it, so a run's
metrics would otherwise change with ``--workers`` and with the machine (the same config and
seed gave 96.66% with 1 thread and 95.54% with 2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikedyn.sweeps.keys import flatten, key_problem
from spikedyn.sweeps.slurm_parameters import slurm_parameter_problem
from spikedyn.training.config.checks import raise_problems
from spikedyn.training.config.types import ConfigError, Problems, shown, unknown_key
from spikedyn.training.config.reading import parse_yaml, read_text_limited

TOP_LEVEL = ("name", "description", "base", "bases", "overrides", "grid", "variants", "seeds", "threads", "comparisons", "slurm", "max_runs")
#: The torch threads of every run of a sweep that does not set ``threads``.
THREADS = 1
#: The most runs a sweep file may make unless it sets ``max_runs``.
MAX_RUNS = 10_000
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
    seeds: dict[str | None, list[int]]  # the seeds of each base label
    comparisons: list[dict[str, Any]]
    slurm: dict[str, Any]
    threads: int = THREADS  # torch threads of every run


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
    """No two of ``values`` are equal (by ``==``, as the runs' names and configs would tell them)."""
    try:
        if not any(isinstance(value, float) and math.isnan(value) for value in values):
            return len(set(values)) == len(values)  # hashing agrees with == here (1 == 1.0 == True)
    except TypeError:  # lists or mappings among them
        pass
    return all(values[i] != values[j] for i in range(len(values)) for j in range(i))


def _size(data: Any) -> int:
    """How many items a list of the file gives (a list's length; 1 for what is not a list, which is refused later anyway)."""
    return len(data) if isinstance(data, list) and data else 1


def check_size(data: dict[str, Any], path: Path) -> None:
    """Refuse a file that makes more runs than its ``max_runs`` (default :data:`MAX_RUNS`), from its lists' sizes alone."""
    bases = len(data["bases"]) if isinstance(data.get("bases"), Mapping) and data["bases"] else 1
    grid = data.get("grid")
    sizes = [_size(values) for values in grid.values()] if isinstance(grid, Mapping) else []
    variants, seeds = _size(data.get("variants")), data.get("seeds")
    per_base = [_size(item) for item in seeds.values()] if isinstance(seeds, Mapping) and seeds else [_size(seeds)] * bases
    seeds = max(per_base)
    count = sum(per_base) * math.prod(sizes) * variants
    limit = data.get("max_runs", MAX_RUNS)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigError(f"{path}: max_runs: expected the most runs the file may make, an int >= 1, got {shown(limit)}")
    if count > limit:
        grid_text = " x ".join(map(str, sizes)) or "1"
        raise ConfigError(f"{path}: the sweep would make {count:,} runs ({bases} base(s) x grid {grid_text} x {variants} variant(s) "
                          f"x {seeds} seed(s)), more than max_runs ({limit:,}); shrink the grid, or set max_runs: {count} "
                          "in the file if that many runs are meant")  # fmt: skip


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


def _seed_list(data: Any, where: str, problems: Problems) -> list[int]:
    valid = isinstance(data, list) and data and all(isinstance(seed, int) and not isinstance(seed, bool) for seed in data)
    if not valid:
        problems.append((where, f"expected a non-empty list of integer seeds, e.g. [1, 2, 3], got {shown(data)}"))
        return []
    if not _distinct(data):
        problems.append((where, f"lists a seed twice: {shown(data)}"))
    return list(data)


def _seeds(data: Any, labels: list[str | None], problems: Problems) -> dict[str | None, list[int]]:
    """The seeds of each base: one list for all, or (with ``bases``) a list per base label."""
    if not isinstance(data, Mapping):
        seeds = _seed_list(data, "seeds", problems)
        return {label: seeds for label in labels}
    if labels == [None]:
        problems.append(("seeds", "seeds per base need bases: {label: file, ...}; with one base give a list"))
        return {None: []}
    for label in data:
        if label not in labels:
            problems.append((f"seeds.{label}", unknown_key("seeds.", label, [str(known) for known in labels])))
    missing = [label for label in labels if label not in data]
    if missing:
        problems.append(("seeds", f"no seeds for base(s) {', '.join(map(str, missing))}: give seeds for every base"))
    return {label: _seed_list(data[label], f"seeds.{label}", problems) if label in data else [] for label in labels}


def _threads(data: Any, problems: Problems) -> int:
    if data is None:
        return THREADS
    if isinstance(data, bool) or not isinstance(data, int) or data < 1:
        problems.append(("threads", f"expected the torch threads of each run, an int >= 1, got {shown(data)}"))
        return THREADS
    return data


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
    check_size(data, path)  # before any list is read item by item
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
    labels = list(data["bases"]) if isinstance(data.get("bases"), Mapping) and data["bases"] else [None]
    seeds = _seeds(data.get("seeds"), labels, problems)
    threads = _threads(data.get("threads"), problems)
    comparisons = _comparisons(data.get("comparisons"), problems)
    slurm = _slurm(data.get("slurm"), problems)
    if problems:
        raise_problems(str(path), problems)
    return SweepFile(path, text, name, description, bases, overrides, grid, variants, seeds, comparisons, slurm, threads)

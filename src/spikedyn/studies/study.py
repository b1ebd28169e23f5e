"""A study: a sweep (base configs x grid x variants x seeds) sized by a budget, the claims it tests, and its figures.

A study is data. :meth:`Study.sweep_document` turns it into an ordinary sweep file, which
:mod:`spikedyn.studies.runner` writes beside the base configs and trains with the sweep
engine, so a study's runs resume, retry and aggregate like any sweep's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spikedyn.analysis.tables import RunMetric
from spikedyn.studies import BUDGETS, REQUIRED_BUDGETS, STUDY_THREADS
from spikedyn.studies.claims import Claim

#: In a base config's text values, stands for the study's output folder (e.g. a data root of the study's own).
STUDY_FOLDER = "{study_folder}"


@dataclass(frozen=True)
class Budget:
    """How large a study runs: its seeds, settings for every run, settings per base (epochs, T, data size), which bases."""

    seeds: tuple[int, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    base_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # {base label: {dotted key: value}}
    description: str = ""
    bases: tuple[str, ...] | None = None  # the base labels it runs; None: all the study's
    base_seeds: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # a base's seeds where they are not ``seeds``

    def seeds_of(self, label: str) -> tuple[int, ...]:
        """The seeds base ``label`` runs with."""
        return tuple(self.base_seeds.get(label, self.seeds))


@dataclass(frozen=True)
class Curves:
    """A figure of a history column over epochs: the mean over seeds of each configuration, one panel per value of ``panels``."""

    name: str
    column: str
    ylabel: str
    panels: tuple[str, ...] = ()  # config keys (or "base") whose values make the panels
    lines: tuple[str, ...] = ()  # config keys whose values label the lines


@dataclass(frozen=True)
class Study:
    """A seed paper's claims on data that needs no download, as a sweep plus the claims it tests."""

    name: str
    title: str
    question: str
    bases: Mapping[str, Mapping[str, Any]]  # {label: config as nested mapping}, written as <label>.yaml
    budgets: Mapping[str, Budget]
    claims: tuple[Claim, ...]
    metrics: Mapping[str, RunMetric]
    units: Mapping[str, str]  # {metric: "%" | other unit}; "%" metrics are fractions shown in percent
    grid: Mapping[str, list[Any]] = field(default_factory=dict)
    variants: tuple[Mapping[str, Any], ...] = ()
    curves: tuple[Curves, ...] = ()
    design: str = ""  # what was chosen to fit the budget, and why

    def __post_init__(self) -> None:
        missing = [budget for budget in REQUIRED_BUDGETS if budget not in self.budgets]
        unknown_budgets = [budget for budget in self.budgets if budget not in BUDGETS]
        unknown_metrics = sorted({check.metric for claim in self.claims for check in claim.checks} - set(self.metrics))
        unknown_bases = sorted({label for budget in self.budgets.values() for label in (budget.bases or ())} - set(self.bases))
        problems = [f"no {', '.join(missing)} budget"] * bool(missing) + [f"unknown budgets {unknown_budgets}"] * bool(unknown_budgets)
        problems += [f"claims use unknown metrics {unknown_metrics}"] * bool(unknown_metrics) + [f"budgets name unknown bases {unknown_bases}"] * bool(unknown_bases)
        if problems:
            raise ValueError(f"study {self.name}: " + "; ".join(problems))

    def budget(self, name: str) -> Budget:
        """The budget called ``name``; a ValueError listing the budgets otherwise."""
        if name not in self.budgets:
            raise ValueError(f"study {self.name} has no {name} budget; its budgets: {', '.join(self.budgets)}")
        return self.budgets[name]

    def base_labels(self, budget: str) -> list[str]:
        """The base labels ``budget`` runs, in the study's order."""
        chosen = self.budget(budget).bases
        return [label for label in self.bases if chosen is None or label in chosen]

    def base_config(self, label: str, budget: str, folder: str) -> dict[str, Any]:
        """The base config ``label`` with the budget's settings for it, as a nested mapping; ``folder`` replaces STUDY_FOLDER."""
        config = _fill(self.bases[label], folder)  # a copy
        for key, value in self.budget(budget).base_overrides.get(label, {}).items():
            _set_dotted(config, key, _fill(value, folder))
        return config

    def comparisons(self, budget: str | None = None) -> list[dict[str, Any]]:
        """The claims' accuracy differences (a - b) as sweep comparisons, each once, so ``spikedyn table`` over the runs shows them too.

        With ``budget``, only those whose sides name no dataset that the budget does not train on.
        """
        datasets = None if budget is None else {self.bases[label]["data"]["dataset"] for label in self.base_labels(budget)}
        found, seen = [], set()
        for claim in self.claims:
            for check in claim.checks:
                coefficients = [coefficient for coefficient, _ in check.terms]
                named = {where.get("data.dataset") for _, where in check.terms} - {None}
                if datasets is not None and not named <= datasets:
                    continue
                if check.metric == "accuracy" and coefficients == [1.0, -1.0] and not check.exclude and check.label not in seen:
                    seen.add(check.label)
                    (_, a), (_, b) = check.terms
                    found.append({"name": check.label, "a": dict(a), "b": dict(b), "within": list(check.within)})
        return found

    def sweep_document(self, budget: str, base_files: Mapping[str, str]) -> dict[str, Any]:
        """The study's sweep file for ``budget`` (``base_files``: {label: path relative to the sweep file})."""
        chosen = self.budget(budget)
        seeds = {label: list(chosen.seeds_of(label)) for label in base_files}
        document: dict[str, Any] = {
            "name": self.name,
            "description": f"{self.title} ({budget} budget). {self.question}",
            "bases": dict(base_files),
            "overrides": dict(chosen.overrides),
            "seeds": seeds if chosen.base_seeds else list(chosen.seeds),
            "threads": STUDY_THREADS,
        }
        if self.grid:
            document["grid"] = {key: list(values) for key, values in self.grid.items()}
        if self.variants:
            document["variants"] = [dict(variant) for variant in self.variants]
        if self.comparisons(budget):
            document["comparisons"] = self.comparisons(budget)
        return document


def _fill(value: Any, folder: str) -> Any:
    """``value`` with STUDY_FOLDER replaced by ``folder`` in every text."""
    if isinstance(value, Mapping):
        return {key: _fill(item, folder) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, folder) for item in value]
    return value.replace(STUDY_FOLDER, folder) if isinstance(value, str) else value


def _set_dotted(config: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested mapping, creating the sections it needs."""
    *sections, last = key.split(".")
    for section in sections:
        config = config.setdefault(section, {})
    config[last] = value

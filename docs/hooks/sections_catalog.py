"""The catalog sections of the docs hook: datasets and their files, models, losses, studies, figures."""

from __future__ import annotations

import importlib

import os
import tempfile
import textwrap

from sections_common import cell, code, docstring, table, yaml_value

#: Datasets that are generated on this machine rather than read from downloaded files: probing
#: them with an empty root would run the generation (about a minute on two loaded cores).
GENERATED_DATASETS = ("event_digits",)


def missing_files_message(name: str) -> str | None:
    """What dataset ``name`` says when its files are missing (read with an empty ``root``), or None if it needs none."""
    from spikedyn.data import build_dataset, dataset_options

    if "root" not in dataset_options(name):
        return None
    with tempfile.TemporaryDirectory() as root:
        try:
            build_dataset(name, "train", root=root)
        except FileNotFoundError as error:
            return str(error).replace(os.path.realpath(root), "<root>").replace(root, "<root>")
    return None


def generated_dataset_text(name: str) -> str:
    event_digits = importlib.import_module("spikedyn.data.events.digits")
    EVENT_DIGITS_FOLDER, build_event_digits = event_digits.EVENT_DIGITS_FOLDER, event_digits.build_event_digits

    return (f"Nothing to download: the first use generates the files into `<root>/{EVENT_DIGITS_FOLDER}/` "
            f"({docstring(build_event_digits).splitlines()[0]}), stored as N-MNIST stores its recordings "
            f"(`Train/<digit>/<index>.bin`, `Test/<digit>/<index>.bin`). A folder generated with other "
            f"parameters is refused, naming them.")  # fmt: skip


def generate_datasets() -> str:
    """Each dataset: what it is, its files, its options with their defaults."""
    from spikedyn.data import dataset_defaults, dataset_options, list_datasets
    from spikedyn.data.registry import DATASETS

    out = []
    for name in list_datasets():
        builder = DATASETS.builder(name)
        out += [f"### `{name}`", "", docstring(builder), ""]
        if name in GENERATED_DATASETS:
            files = generated_dataset_text(name)
        else:
            message = missing_files_message(name)
            files = "Reads no files: the data come with scikit-learn." if message is None else f"What it says when they are missing:\n\n```text\n{textwrap.fill(message, 96)}\n```"
        out += [f"**Files.** {files}", ""]
        defaults = dataset_defaults(name)
        rows = [[code(option), code(yaml_value(defaults[option])) if option in defaults else "(required)"] for option in dataset_options(name)]
        out += [f"**Options** (`data.options.KEY` in a config, keywords of `build_dataset(\"{name}\", split, ...)`):", "",
                table(["option", "default"], rows), ""]  # fmt: skip
    return "\n".join(out).rstrip() + "\n"


def generate_models() -> str:
    from spikedyn.models import list_models, model_options
    from spikedyn.models.registry import MODELS

    rows = []
    for name in list_models():
        summary = docstring(MODELS.builder(name)).split("\n\n")[0]
        rows.append([code(name), cell(summary), ", ".join(code(option) for option in model_options(name))])
    return table(["`model.name`", "what it builds", "options (`model.options.KEY`; `neuron` comes from `model.neuron`)"], rows) + "\n"


def generate_losses() -> str:
    from spikedyn.losses import LOSSES

    rows = [[code(name), cell(rule.description), ", ".join(f"{code(k)} = {code(yaml_value(v))}" for k, v in rule.defaults.items()) or "none",
             cell(docstring(rule.predict)) or code(rule.predict.__name__.lstrip("_"))] for name, rule in LOSSES.items()]  # fmt: skip
    return table(["`loss.name`", "loss", "options (`loss.options`) and defaults", "prediction rule"], rows) + "\n"


def check_text(check, unit: str) -> str:
    """A check as the study's report describes it: the contrast, what the claim expects of it, its margin, its groups."""
    terms = " ".join(f"{'+' if c > 0 else '-'} {'' if abs(c) == 1 else f'{abs(c):g} x '}mean({', '.join(f'{k}={yaml_value(v)}' for k, v in where.items())})"
                     for c, where in check.terms).lstrip("+ ")  # fmt: skip
    margin = f"{100 * check.margin:g} pp" if unit == "%" else f"{check.margin:g}"
    expects = {"positive": "> 0", "negative": "< 0", "equivalent": f"within ±{margin}"}.get(check.expect, f"{check.expect} (margin {margin})")
    if check.margin and check.expect in ("positive", "negative"):
        expects += f", by {margin} or more"
    within = f"; separately for each {', '.join(check.within)}" if check.within else ""
    return f"`{check.label}` ({check.metric}): {terms}; expected {expects}{within}"


def generate_studies() -> str:
    """Each study of ``spikedyn study --list``: its question, budgets, and each claim with its source and checks."""
    from spikedyn.studies.catalog import STUDIES

    out = []
    for name, study in STUDIES.items():
        out += [f"#### `{name}`: {study.title}", "", study.question, "",
                "Budgets: " + "; ".join(f"`{budget}`: {spec.description or ', '.join(map(str, spec.seeds))}" for budget, spec in study.budgets.items()) + ".", ""]  # fmt: skip
        for claim in study.claims:
            out += [f"- **`{claim.key}`** ({claim.source}): \"{claim.statement}\""]
            out += [f"    - {check_text(check, study.units.get(check.metric, ''))}" for check in claim.checks]
            if claim.note:
                out += [f"    - How it is read: {claim.note}"]
        out += [""]
    return "\n".join(out).rstrip() + "\n"


def figure_source(spec) -> str:
    if not spec.needs_runs:
        return "no run folder: drawn from the neuron model or the benchmark's results"
    return "one run folder" if spec.max_runs == 1 else "one or more run folders"


def generate_figures() -> str:
    import spikedyn.analysis.figures  # noqa: F401  (registers every figure)
    from spikedyn.analysis.figure_registry import FIGURES, figure_options

    out = []
    for name in sorted(FIGURES):
        spec = FIGURES[name]
        options = figure_options(spec) or {}
        runs = " RUN" if spec.max_runs == 1 else " RUN [RUN ...]" if spec.needs_runs else ""
        out += [f"### `{name}`", "", f"- Redraws: {spec.redraws}.", f"- Drawn from: {figure_source(spec)}.",
                f"- Command: `spikedyn plot {name}{runs} [--out FILE.png] [--vector svg|pdf] [--set KEY=VALUE ...]`", "",
                docstring(spec.draw), ""]  # fmt: skip
        if options:
            rows = [[code(key), code(yaml_value(value)), cell(spec.options.get(key, "")) or "-"] for key, value in options.items()]
            out += [table(["option (`--set KEY=VALUE`)", "default", "meaning"], rows), ""]
        else:
            out += ["Options: none.", ""]
    return "\n".join(out).rstrip() + "\n"

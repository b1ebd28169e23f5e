"""The config sections of the docs hook: every key of the schema with its type, default and description, the sources, the packaged configs."""

from __future__ import annotations

import importlib

import ast
import dataclasses
import inspect
import io
import tokenize
import typing

from sections_common import cell, code, docstring, schema, table, yaml_value


def field_comments(cls: type) -> dict[str, str]:
    """{field: comment} of a dataclass: the ``#`` comment at the end of the field's line(s), after
    the comment lines right above it (the source is read, since comments are not kept at run time)."""
    source = inspect.getsource(inspect.getmodule(cls))
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    found: dict[str, str] = {}
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        above, line = [], statement.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        trailing = [comments[n] for n in range(statement.lineno, (statement.end_lineno or statement.lineno) + 1) if n in comments]
        parts = [text for text in above + trailing if text and text != "fmt: skip"]
        found[statement.target.id] = " ".join(parts)
    return found


#: What a key means where the schema's source has no comment for it (the schema's comment wins once
#: it has one). tests/docs/test_site.py fails for a key with neither, so a new key needs its words.
KEY_NOTES = {
    "name": "the experiment's name: the run folder is OUTPUT_DIR/<name>-<date>-<time>/; also the MLflow experiment and the W&B group",
    "description": "what the experiment reproduces, in words (the packaged configs say which table or figure)",
    "seed": "seeds weights, shuffling, dropout and augmentation (each epoch draws from (seed, epoch), so a resumed run repeats an uninterrupted one)",
    "output_dir": "the folder that receives the run folders; `spikedyn train --out DIR` overrides it",
    "model.name": "a network of the model registry (see Models below), or your own as \"package.module:callable\"",
    "model.neuron.kind": "the neuron class: \"plif\" (learned tau), \"lif\" (fixed tau), \"if\" (no leak), \"alif\" (adaptive threshold), \"cubalif\" (synaptic current)",
    "model.neuron.tau": "PLIF, ALIF, CubaLIF: the initial membrane time constant tau_0 in steps (> 1); LIF: the fixed tau; unused by IF",
    "model.neuron.tau_std": "tau_init=lognormal: the standard deviation of the initial tau in tau-space (tau - 1 is log-normal with mean tau_0 - 1); must be > 0 there",
    "model.neuron.imp_init_range": "imp set: the learnable V_{-1} starts uniform in [low, high]",
    "model.neuron.v_threshold": "the firing threshold V_th (the starting value when the threshold is learned)",
    "model.neuron.detach_reset": "true: no gradient flows through the spike in the reset (the PLIF paper's default)",
    "model.neuron.decay_input": "true: H_t = V_{t-1} + k (X_t - (V_{t-1} - V_reset)) (PLIF Eq. 6); false: H_t = V_{t-1} - k (V_{t-1} - V_reset) + X_t (the IMP paper's form); LIF, PLIF, ALIF, CubaLIF",
    "model.encoder.kind": "\"direct\": frames go to the network as the dataset gives them; \"poisson\" and \"latency\" turn intensities in [0, 1] into spikes (set data.options.normalize: false)",
    "data.dataset": "a dataset of the data registry (see the Datasets page), or your own as \"package.module:callable\"",
    "data.batch_size": "samples per training batch (per process under DDP)",
    "data.num_workers": "DataLoader worker processes; may change on --resume",
    "loss.name": "the loss over the output sequence, with its own prediction rule (see Losses below)",
    "loss.options": "the chosen loss's options, e.g. {label_smoothing: 0.01} for tet_s (see Losses below)",
    "regularizer.kind": "\"variance\": lam * Var of each PLIF layer's tau parameters, summed over layers (the per-neuron study); \"clustering\": num_centres learnable centres per layer instead of one mean",
    "regularizer.lam": "the regulariser's weight: one number for every PLIF layer, a list with one per PLIF layer, or {layer name: lam} (layers left out get 0)",
    "optimizer.lr": "the learning rate of the weights (and of tau, IMP and the other learned dynamics unless their own lr is set)",
    "optimizer.weight_decay": "weight decay of the \"weights\" group: every parameter that is not tau, IMP, other learned dynamics, a normalisation parameter or a bias",
    "optimizer.tau_weight_decay": "weight decay of the tau parameters a",
    "optimizer.imp_weight_decay": "weight decay of the IMP (the IMP paper excludes it: 0)",
    "optimizer.dynamics_weight_decay": "weight decay of a learned threshold, ALIF's tau_a and beta, CubaLIF's tau_s",
    "optimizer.norm_bias_weight_decay": "weight decay of normalisation parameters and of every bias",
    "scheduler.name": "\"cosine\": cosine annealing per epoch after an optional linear warm-up; \"none\": a constant lr",
    "scheduler.warmup_epochs": "epochs of linear warm-up: epoch e < warmup_epochs trains at (e + 1) / (warmup_epochs + 1) of the lr",
    "scheduler.eta_min": "the lowest lr of the cosine",
    "trainer.max_epochs": "epochs to train; on --resume, a larger value trains a finished run longer",
    "trainer.devices": "devices per node, as Lightning reads it: a count, -1 for all, or a string such as \"auto\"",
    "trainer.num_nodes": "machines (DDP across nodes: under torchrun or SLURM)",
    "trainer.gradient_clip_val": "clip the gradient norm to this value (null: no clipping)",
    "trainer.deterministic": "Lightning's deterministic mode; on a GPU, needed for a bit-exact resume (cuDNN may otherwise choose non-deterministic kernels)",
}


def default_of(field: dataclasses.Field) -> object:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def config_fields(cls: type | None = None, prefix: str = "") -> list[tuple[str, type, dataclasses.Field, str]]:
    """(dotted key, owning dataclass, field, comment) of every config key, nested sections flattened, in source order."""
    cls = cls or schema().ExperimentConfig
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    keys = []
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(hints[field.name]):
            keys += config_fields(hints[field.name], key + ".")
        else:
            keys.append((key, cls, field, comments.get(field.name, "")))
    return keys


def config_sections() -> list[tuple[str, type]]:
    """(dotted prefix, dataclass) of the config and each nested section, in source order ("" is the top level)."""
    ExperimentConfig = schema().ExperimentConfig
    found = [("", ExperimentConfig)]

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[field.name]):
                found.append((prefix + field.name, hints[field.name]))
                walk(hints[field.name], prefix + field.name + ".")

    walk(ExperimentConfig, "")
    return found


def type_text(annotation: str) -> str:
    return annotation.replace("typing.", "")


def generate_config_keys() -> str:
    """One table per section of the config: key, type, default, what the schema says of it."""
    keys = config_fields()
    out = []
    for prefix, cls in config_sections():
        own = [(key, field, comment) for key, owner, field, comment in keys if owner is cls and key.rpartition(".")[0] == prefix]
        title = f"`{prefix}`" if prefix else "Top level"
        out += [f"### {title}", "", docstring(cls), ""]
        rows = []
        for key, field, comment in own:
            default = default_of(field)
            rows.append([code(key), code(type_text(str(field.type))), code(yaml_value(default)), cell(comment or KEY_NOTES.get(key, ""))])
        out += [table(["key", "type", "default", "what it is"], rows), ""]
    return "\n".join(out).rstrip() + "\n"


def generate_config_sources() -> str:
    """The aspects ``sources`` may name, with what the offline default config (configs/digits.yaml) says of each."""
    find_config = importlib.import_module("spikedyn.training.config.names").find_config
    read_file = importlib.import_module("spikedyn.training.config.reading").read_file
    SOURCE_ASPECTS = schema().SOURCE_ASPECTS
    digits = read_file(find_config("digits"), ()).get("sources", {})
    rows = [[code(aspect), cell(digits.get(aspect, "")) or "(from configs/base/plif.yaml or left unstated)"] for aspect in SOURCE_ASPECTS]
    return table(["aspect", "what `spikedyn train --config digits` records for it"], rows) + "\n"


def generate_packaged_configs() -> str:
    """Every config ``--config NAME`` finds, with its description."""
    names = importlib.import_module("spikedyn.training.config.names")
    find_config, packaged_configs = names.find_config, names.packaged_configs
    read_file = importlib.import_module("spikedyn.training.config.reading").read_file
    rows = []
    for name in packaged_configs():
        data = read_file(find_config(name), ())
        rows.append([code(name), cell(data.get("protocol", "B")), cell(data.get("description", ""))])
    return table(["`--config`", "protocol", "description"], rows) + "\n"

"""What a well-typed config must also satisfy: known names and options, allowed choices, sane numbers."""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping, Sequence

from spikedyn.data import dataset_defaults, dataset_options
from spikedyn.layers.encoders import ENCODERS, build_encoder
from spikedyn.data.registry import DATASETS
from spikedyn.losses import LOSSES, get_loss
from spikedyn.models import model_options
from spikedyn.models.registry import MODELS
from spikedyn.neurons.backends import BACKEND_NAMES
from spikedyn.neurons.parameters import IMP_SHAPES, TAU_INITS, TAU_SHAPES, THRESHOLD_SHAPES
from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Surrogate, Triangle
from spikedyn.training.config.types import ConfigError, Problems, nearest
from spikedyn.training.protocols import PROTOCOLS
from spikedyn.training.config.schema import SOURCE_ASPECTS, ExperimentConfig

#: The names ``trainer.loggers`` may hold: the trackers of :mod:`spikedyn.training.loggers` (which checks it holds them all).
LOGGER_NAMES = ("tensorboard", "csv", "wandb", "mlflow")

#: The neuron kinds a config names, and the options that apply only to some (with their defaults).
NEURON_KINDS = ("plif", "lif", "if", "alif", "cubalif")
PLIF_LIKE = ("plif", "alif", "cubalif")
KIND_OPTIONS: Mapping[str, tuple[tuple[str, object], ...]] = types.MappingProxyType({
    "plif_like": (("tau_shape", "layer"), ("tau_init", "constant"), ("tau_std", 0.0)),
    "alif": (("adaptation_tau", 4.0), ("adaptation_strength", 0.5), ("adaptation_shape", "layer"), ("detach_adaptation", False)),
    "cubalif": (("synaptic_tau", 2.0), ("synaptic_shape", "layer")),
})  # fmt: skip

#: Surrogate gradients by the name a config gives (``model.neuron.surrogate``).
SURROGATES: Mapping[str, type[Surrogate]] = types.MappingProxyType(
    {"atan": ATan, "sigmoid": Sigmoid, "triangle": Triangle, "rectangular": Rectangular}
)

#: The values a fixed-choice field may take, by dotted key.
CHOICES: Mapping[str, tuple[object, ...]] = types.MappingProxyType(
    {
        "protocol": PROTOCOLS,
        "model.neuron.kind": NEURON_KINDS,
        "model.neuron.threshold": THRESHOLD_SHAPES,
        "model.neuron.adaptation_shape": TAU_SHAPES,
        "model.neuron.synaptic_shape": TAU_SHAPES,
        "model.neuron.tau_shape": TAU_SHAPES,
        "model.neuron.tau_init": TAU_INITS,
        "model.neuron.imp": IMP_SHAPES,
        "model.neuron.surrogate": tuple(SURROGATES),
        "model.neuron.backend": (None, *BACKEND_NAMES),
        "model.encoder.kind": ENCODERS,
        "regularizer.kind": ("none", "variance", "clustering"),
        "regularizer.on": ("a", "tau"),
        "optimizer.name": ("adam", "adamw", "sgd"),
        "scheduler.name": ("cosine", "none"),
        "trainer.precision": ("32-true", "bf16-mixed", "16-mixed", "64-true"),
        "trainer.on_divergence": ("stop", "warn"),
    }
)

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_MAX_SEED = 2**32 - 1


def _number_check(problems: Problems, key: str, value: float | None, ok: Callable[[float], bool], rule: str) -> None:
    if value is not None and not (math.isfinite(value) and ok(value)):
        problems.append((key, f"must be {rule}, got {value!r}"))


def check_neuron(cfg: ExperimentConfig, problems: Problems) -> None:
    """Neuron options that do not apply to the neuron kind, and inconsistent reset or tau settings."""
    neuron = cfg.model.neuron
    _number_check(problems, "model.neuron.tau", neuron.tau, lambda v: v > 1, "a finite number > 1 (k = 1/tau in (0, 1))")
    _number_check(problems, "model.neuron.tau_std", neuron.tau_std, lambda v: v >= 0, "a finite number >= 0")
    _number_check(problems, "model.neuron.v_threshold", neuron.v_threshold, lambda v: True, "a finite number")
    if neuron.v_reset is not None and math.isfinite(neuron.v_threshold):
        _number_check(problems, "model.neuron.v_reset", neuron.v_reset, lambda v: v < neuron.v_threshold,
                      f"a finite number below model.neuron.v_threshold ({neuron.v_threshold})")  # fmt: skip
    _number_check(problems, "model.neuron.surrogate_alpha", neuron.surrogate_alpha, lambda v: v > 0, "a finite number > 0")
    low_high = neuron.imp_init_range
    if len(low_high) != 2 or not all(math.isfinite(v) for v in low_high) or low_high[0] > low_high[1]:
        problems.append(("model.neuron.imp_init_range", f"must be [low, high] with finite low <= high, got {low_high!r}"))
    if neuron.kind in PLIF_LIKE and neuron.tau_init == "lognormal" and neuron.tau_std <= 0:
        problems.append(("model.neuron.tau_std", f"tau_init 'lognormal' needs tau_std > 0, got {neuron.tau_std!r}"))
    for group, options in KIND_OPTIONS.items():
        kinds = PLIF_LIKE if group == "plif_like" else (group,)
        if neuron.kind in kinds:
            continue
        for option, default in options:
            if getattr(neuron, option) != default:
                message = f"applies to kind {' or '.join(map(repr, kinds))} only (kind is {neuron.kind!r}); leave it at {default!r}"
                problems.append((f"model.neuron.{option}", message))
    _number_check(problems, "model.neuron.adaptation_tau", neuron.adaptation_tau, lambda v: v > 1, "a finite number > 1 (1/tau_a in (0, 1))")
    _number_check(problems, "model.neuron.synaptic_tau", neuron.synaptic_tau, lambda v: v > 1, "a finite number > 1 (1/tau_s in (0, 1))")
    _number_check(problems, "model.neuron.adaptation_strength", neuron.adaptation_strength, lambda v: v > 0, "a finite number > 0 (beta, kept positive)")
    if neuron.threshold != "fixed" and math.isfinite(neuron.v_threshold) and neuron.v_threshold <= 0:
        problems.append(("model.neuron.v_threshold", f"a learned threshold starts at v_threshold and stays positive: it must be > 0, got {neuron.v_threshold!r}"))


def _unknown_name(kind: str, name: str, known: Sequence[str]) -> str:
    return f"unknown {kind} {name!r}{nearest(name, known)}; known {kind}s: {', '.join(known)}"


def _unknown_option(owner: str, option: str, valid: Sequence[str]) -> str:
    return f"{owner} has no option {option!r}{nearest(option, valid)}; its options: {', '.join(valid)}"


def _check_options(owner: str, key: str, given: Sequence[str], valid: Sequence[str], any_option: bool, problems: Problems) -> None:
    for option in given:
        if option not in valid and not any_option:
            problems.append((f"{key}.{option}", _unknown_option(owner, option, valid)))


def _normalises(cfg: ExperimentConfig) -> bool:
    """Whether the config's dataset has a ``normalize`` option that is (or defaults to) on."""
    try:
        default = dataset_defaults(cfg.data.dataset).get("normalize", False)
    except ValueError:
        return False
    return cfg.data.options.get("normalize", default) is True


def check_registries(cfg: ExperimentConfig, problems: Problems) -> None:
    """Model, dataset and loss names (registered, import paths or entry points) and their options."""
    model, dataset, loss = cfg.model.name, cfg.data.dataset, cfg.loss.name
    try:
        valid = [option for option in model_options(model) if option != "neuron"]
        any_option = MODELS.takes_any_option(model)
    except ValueError as error:
        problems.append(("model.name", str(error)))
    else:
        if "neuron" in cfg.model.options:
            problems.append(("model.options.neuron", "the neuron is set by model.neuron (kind, tau, ...), not here"))
        given = [option for option in cfg.model.options if option != "neuron"]
        _check_options(f"model {model!r}", "model.options", given, valid, any_option, problems)
    try:
        valid = dataset_options(dataset)
        any_option = DATASETS.takes_any_option(dataset)
    except ValueError as error:
        problems.append(("data.dataset", str(error)))
    else:
        _check_options(f"dataset {dataset!r}", "data.options", list(cfg.data.options), valid, any_option, problems)
    encoder = cfg.model.encoder
    if "time_steps" in encoder.options:
        problems.append(("model.encoder.options.time_steps", "the encoder takes T from the data's frames [T, B, ...]; set data.options.time_steps"))
    elif encoder.kind in ENCODERS:
        try:
            build_encoder(encoder.kind, **encoder.options)
        except (TypeError, ValueError) as error:
            problems.append(("model.encoder.options", str(error)))
    if encoder.kind != "direct" and _normalises(cfg):
        problems.append(("model.encoder.kind", f"{encoder.kind!r} encodes intensities in [0, 1], but the dataset normalises them (mean/std): set data.options.normalize=false"))
    if loss not in LOSSES:
        problems.append(("loss.name", _unknown_name("loss", loss, list(LOSSES))))
    else:
        try:
            get_loss(cfg.loss.name, **cfg.loss.options)
        except (TypeError, ValueError) as error:
            problems.append(("loss.options", str(error)))


def check_numbers(cfg: ExperimentConfig, problems: Problems) -> None:
    """Learning rates, sizes and epochs in their valid ranges."""
    positive_int = (lambda v: v >= 1, "an int >= 1")
    non_negative = (lambda v: v >= 0, "a finite number >= 0")
    checks: list[tuple[str, float | None, tuple[Callable[[float], bool], str]]] = [
        ("seed", cfg.seed, (lambda v: 0 <= v <= _MAX_SEED, f"an int in [0, {_MAX_SEED}]")),
        ("data.batch_size", cfg.data.batch_size, positive_int),
        ("data.eval_batch_size", cfg.data.eval_batch_size, positive_int),
        ("data.num_workers", cfg.data.num_workers, (lambda v: v >= 0, "an int >= 0")),
        ("optimizer.lr", cfg.optimizer.lr, (lambda v: v > 0, "a finite number > 0")),
        ("optimizer.tau_lr", cfg.optimizer.tau_lr, non_negative),
        ("optimizer.imp_lr", cfg.optimizer.imp_lr, non_negative),
        ("optimizer.dynamics_lr", cfg.optimizer.dynamics_lr, non_negative),
        ("optimizer.dynamics_weight_decay", cfg.optimizer.dynamics_weight_decay, non_negative),
        ("optimizer.weight_decay", cfg.optimizer.weight_decay, non_negative),
        ("optimizer.tau_weight_decay", cfg.optimizer.tau_weight_decay, non_negative),
        ("optimizer.imp_weight_decay", cfg.optimizer.imp_weight_decay, non_negative),
        ("optimizer.norm_bias_weight_decay", cfg.optimizer.norm_bias_weight_decay, non_negative),
        ("optimizer.momentum", cfg.optimizer.momentum, (lambda v: 0 <= v < 1, "a number in [0, 1)")),
        ("scheduler.t_max", cfg.scheduler.t_max, positive_int),
        ("scheduler.warmup_epochs", cfg.scheduler.warmup_epochs, (lambda v: v >= 0, "an int >= 0")),
        ("scheduler.eta_min", cfg.scheduler.eta_min, non_negative),
        ("trainer.max_epochs", cfg.trainer.max_epochs, positive_int),
        ("trainer.num_nodes", cfg.trainer.num_nodes, positive_int),
        ("trainer.gradient_clip_val", cfg.trainer.gradient_clip_val, (lambda v: v > 0, "a finite number > 0")),
        ("records.snapshot_every", cfg.records.snapshot_every, (lambda v: v >= 0, "an int >= 0 (0: never)")),
        ("regularizer.num_centres", cfg.regularizer.num_centres, positive_int),
    ]
    for key, value, (ok, rule) in checks:
        _number_check(problems, key, value, ok, rule)
    devices = cfg.trainer.devices
    if isinstance(devices, int) and not (devices >= 1 or devices == -1):
        problems.append(("trainer.devices", f"must be an int >= 1, -1 (all) or a string such as 'auto', got {devices!r}"))
    if isinstance(devices, str) and not devices.strip():
        problems.append(("trainer.devices", "must not be an empty string"))
    scheduler = cfg.scheduler
    epochs, warmup = cfg.trainer.max_epochs, scheduler.warmup_epochs
    if scheduler.name == "cosine" and scheduler.t_max is None and epochs - warmup < 1:
        message = f"leaves no cosine epochs: it must be below trainer.max_epochs ({epochs}) when scheduler.t_max is null"
        problems.append(("scheduler.warmup_epochs", f"{message}, got {warmup}"))


def check_regularizer(cfg: ExperimentConfig, problems: Problems) -> None:
    """A tau regulariser needs PLIF neurons and a lambda of a valid form."""
    reg = cfg.regularizer
    lams = reg.lam if isinstance(reg.lam, list) else list(reg.lam.values()) if isinstance(reg.lam, dict) else [reg.lam]
    if not all(math.isfinite(v) and v >= 0 for v in lams):
        problems.append(("regularizer.lam", f"every lambda must be a finite number >= 0, got {reg.lam!r}"))
    if reg.kind != "none" and cfg.model.neuron.kind not in PLIF_LIKE:
        kind = cfg.model.neuron.kind
        problems.append(("regularizer.kind", f"{reg.kind!r} regularises PLIF time constants, but model.neuron.kind is {kind!r}"))


def check_names(cfg: ExperimentConfig, problems: Problems) -> None:
    """The experiment name must be usable as a folder name."""
    if not _NAME_PATTERN.match(cfg.name):
        rule = "a non-empty run name of letters, digits, '_', '.', '-' (it names the run's folder)"
        problems.append(("name", f"must be {rule}, got {cfg.name!r}"))
    if not cfg.output_dir.strip():
        problems.append(("output_dir", "must not be empty"))
    for index, module in enumerate(cfg.records.weights):
        if not module:
            problems.append((f"records.weights[{index}]", "must be a module name, got an empty string"))


def check_choices(cfg: ExperimentConfig, problems: Problems) -> None:
    """Fixed-choice fields (see CHOICES) hold one of their values."""
    for key, allowed in CHOICES.items():
        value: object = cfg
        for part in key.split("."):
            value = getattr(value, part)
        if value not in allowed:
            near = nearest(str(value), [str(a) for a in allowed])
            problems.append((key, f"{value!r} is not one of {list(allowed)!r}{near}"))


def check_loggers(cfg: ExperimentConfig, problems: Problems) -> None:
    """``trainer.loggers`` names each known logger once."""
    for index, name in enumerate(cfg.trainer.loggers):
        if name not in LOGGER_NAMES:
            problems.append((f"trainer.loggers[{index}]", f"unknown logger {name!r}{nearest(name, LOGGER_NAMES)}; known loggers: {', '.join(LOGGER_NAMES)}"))
        elif cfg.trainer.loggers.index(name) != index:
            problems.append((f"trainer.loggers[{index}]", f"{name!r} is named twice; name each logger once"))


def check_sources(cfg: ExperimentConfig, problems: Problems) -> None:
    """``sources`` names known aspects, each with a non-empty text."""
    for aspect, source in cfg.sources.items():
        if aspect not in SOURCE_ASPECTS:
            problems.append((f"sources.{aspect}", f"is not an aspect a source is kept for{nearest(aspect, SOURCE_ASPECTS)}; expected one of {list(SOURCE_ASPECTS)}"))
        elif not isinstance(source, str) or not source.strip():
            problems.append((f"sources.{aspect}", f"must say where the value comes from (a paper section, a code file or 'our choice: why'), got {source!r}"))


def check_protocol(cfg: ExperimentConfig, problems: Problems) -> None:
    """Protocol A trains on the whole training set and is read off the test split: both must be there."""
    if cfg.protocol != "A":
        return
    if not cfg.data.test:
        problems.append(("data.test", "protocol A reports the maximum test accuracy, so the test split must be evaluated (set protocol: B to skip it)"))
    if cfg.data.options.get("val_fraction", 0.0) != 0.0:
        problems.append(("data.options.val_fraction", "protocol A trains on the whole training set and has no validation split; remove it or set protocol: B"))


def raise_problems(source: str, problems: Problems) -> None:
    """Raise one ConfigError listing every problem found in ``source``, if any."""
    if len(problems) == 1:
        key, message = problems[0]
        raise ConfigError(f"{source}: {key}: {message}")
    lines = "\n".join(f"  - {key}: {message}" for key, message in problems)
    raise ConfigError(f"{source}: {len(problems)} problems:\n{lines}")

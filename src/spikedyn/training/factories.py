"""Build what an experiment config describes: neurons, model, loss, regulariser, optimiser, schedule.

Everything here is plain torch (no Lightning), so a script or a test can build the pieces
of a run from a config without a trainer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial

import torch
from torch import nn

from spikedyn.data import DatasetInfo
from spikedyn.losses import (
    SequenceLoss,
    TauClusteringRegulariser,
    TauVarianceRegulariser,
    get_loss,
)
from spikedyn.layers.encoders import build_encoder
from spikedyn.models import build_model, model_options
from spikedyn.models.encoded import EncodedNetwork
from spikedyn.neurons import ALIF, IF, LIF, PLIF, CubaLIF
from spikedyn.param_groups import parameter_groups
from spikedyn.training.config import SURROGATES, ConfigError
from spikedyn.training.config.checks import NEURON_KINDS
from spikedyn.training.config.schema import ExperimentConfig, NeuronConfig

__all__ = [
    "ConfigLambdaLR",
    "WarmupCosine",
    "build_loss",
    "build_model_from_config",
    "build_optimizer",
    "build_regularizer",
    "build_scheduler",
    "model_options_from_data",
    "neuron_factory",
]


def neuron_factory(cfg: NeuronConfig) -> Callable[..., nn.Module]:
    """``partial(PLIF | LIF | IF, ...)`` with the options that apply to that kind; called as ``neuron(shape=...)``.

    IF takes no tau or decay_input; LIF no tau_shape, tau_init or tau_std. The surrogate is
    built from its name with ``surrogate_alpha`` (None: that surrogate's own default alpha).
    """
    if cfg.surrogate not in SURROGATES:
        raise ConfigError(f"model.neuron.surrogate: {cfg.surrogate!r} is not one of {list(SURROGATES)}")
    surrogate_cls = SURROGATES[cfg.surrogate]
    surrogate = surrogate_cls() if cfg.surrogate_alpha is None else surrogate_cls(alpha=float(cfg.surrogate_alpha))
    common = {
        "v_threshold": cfg.v_threshold,
        "v_reset": cfg.v_reset,
        "detach_reset": cfg.detach_reset,
        "surrogate": surrogate,
        "imp": cfg.imp,
        "imp_init_range": tuple(cfg.imp_init_range),
        "backend": cfg.backend,
        "threshold": cfg.threshold,
    }
    plif_like = {"tau": cfg.tau, "tau_shape": cfg.tau_shape, "tau_init": cfg.tau_init, "tau_std": cfg.tau_std, "decay_input": cfg.decay_input}
    if cfg.kind == "plif":
        return partial(PLIF, **plif_like, **common)
    if cfg.kind == "alif":
        return partial(ALIF, **plif_like, **common, adaptation_tau=cfg.adaptation_tau, adaptation_strength=cfg.adaptation_strength,
                       adaptation_shape=cfg.adaptation_shape, detach_adaptation=cfg.detach_adaptation)  # fmt: skip
    if cfg.kind == "cubalif":
        return partial(CubaLIF, **plif_like, **common, synaptic_tau=cfg.synaptic_tau, synaptic_shape=cfg.synaptic_shape)
    if cfg.kind == "lif":
        return partial(LIF, tau=cfg.tau, decay_input=cfg.decay_input, **common)
    if cfg.kind == "if":
        return partial(IF, **common)
    raise ConfigError(f"model.neuron.kind: {cfg.kind!r} is not one of {list(NEURON_KINDS)}")


#: What a model builder may take from the dataset, besides ``model.options``, by naming it as a parameter.
DATA_ARGUMENTS = ("in_channels", "input_size", "input_shape", "num_classes", "time_steps")


def _from_data(name: str, accepted: list[str], info: DatasetInfo) -> dict[str, tuple[object, str]]:
    """{argument: (value, why)} of the :data:`DATA_ARGUMENTS` that the builder of ``name`` names."""
    shape = tuple(int(d) for d in info.frame_shape)
    from_data: dict[str, tuple[object, str]] = {
        "input_shape": (shape, f"its frames are {list(shape)} per step"),
        "num_classes": (info.num_classes, f"it has {info.num_classes} classes"),
        "time_steps": (info.time_steps, f"it gives {info.time_steps} time steps"),
    }
    image = [option for option in ("in_channels", "input_size") if option in accepted]
    if image and len(shape) != 3:
        raise ConfigError(f"model {name!r} takes {' and '.join(image)}, for frames [C, H, W], but dataset {info.name!r} gives frames of shape {list(shape)} per step")
    if "in_channels" in accepted:
        from_data["in_channels"] = (shape[0], f"its frames have {shape[0]} channels (frame_shape {shape})")
    if "input_size" in accepted:
        if shape[1] != shape[2]:
            raise ConfigError(
                f"model {name!r} takes a square input_size, but dataset {info.name!r} gives {shape[1]}x{shape[2]} frames "
                f"(frame_shape {shape}); resize them to a square (data.options)"
            )
        from_data["input_size"] = (shape[1], f"its frames are {shape[1]}x{shape[2]}")
    return {option: value for option, value in from_data.items() if option in accepted}


def model_options_from_data(cfg: ExperimentConfig, info: DatasetInfo) -> dict[str, object]:
    """``cfg.model.options`` completed from the dataset with the :data:`DATA_ARGUMENTS` the model's builder names.

    Each is filled only where the builder takes it and the config leaves it unset (a
    ``time_steps: null`` counts as unset); one the config sets must agree with the dataset.
    ``input_shape`` is the shape of one step of a sample: (C, H, W) for the packaged datasets.
    """
    name = cfg.model.name
    options = dict(cfg.model.options)
    if "neuron" in options:
        raise ConfigError("model.options.neuron: the neuron is set by model.neuron, not in model.options")
    for option, (value, why) in _from_data(name, model_options(name), info).items():
        given = options.get(option)
        if given is None:
            options[option] = value
        elif (tuple(given) if isinstance(given, list) else given) != value:
            raise ConfigError(
                f"model.options.{option} is {given!r} but dataset {info.name!r} needs {value}: {why}; "
                f"remove model.options.{option} to take it from the data"
            )
    return options


def build_model_from_config(cfg: ExperimentConfig, info: DatasetInfo) -> nn.Module:
    """The network of ``cfg.model`` sized for the dataset ``info`` describes, with a neuron factory where its builder takes ``neuron``."""
    options = model_options_from_data(cfg, info)
    if "neuron" in model_options(cfg.model.name):
        options["neuron"] = neuron_factory(cfg.model.neuron)
    network = build_model(cfg.model.name, **options)
    if not isinstance(network, nn.Module):
        raise ConfigError(f"model.name: {cfg.model.name!r} returned a {type(network).__name__}, not a torch nn.Module")
    encoder = cfg.model.encoder
    if encoder.kind == "direct":
        return network
    # the data give [T, B, ...] frames, so the encoder takes T from them (time_steps=None)
    return EncodedNetwork(build_encoder(encoder.kind, **encoder.options), network)


def build_loss(cfg: ExperimentConfig) -> SequenceLoss:
    """The loss of ``cfg.loss`` (its prediction rule comes with it)."""
    return get_loss(cfg.loss.name, **cfg.loss.options)


def _all_zero(lam: float | list[float] | dict[str, float]) -> bool:
    values = lam if isinstance(lam, list) else list(lam.values()) if isinstance(lam, dict) else [lam]
    return all(value == 0 for value in values)


def build_regularizer(cfg: ExperimentConfig, model: nn.Module) -> nn.Module | None:
    """The tau regulariser, called as ``regularizer(model)``; None for kind "none" or lam 0.

    A clustering regulariser has learnable centres: pass ``regularizer.parameters()`` to
    :func:`build_optimizer` as ``extra_tau_parameters``.
    """
    reg = cfg.regularizer
    if reg.kind == "none" or _all_zero(reg.lam):
        return None
    if reg.kind == "variance":
        return TauVarianceRegulariser(reg.lam, reg.on)
    if reg.kind == "clustering":
        return TauClusteringRegulariser(model, reg.num_centres, reg.lam, reg.on)
    raise ConfigError(f"regularizer.kind: {reg.kind!r} is not one of ['none', 'variance', 'clustering']")


def build_optimizer(
    cfg: ExperimentConfig, model: nn.Module, extra_tau_parameters: Iterable[nn.Parameter] = ()
) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (momentum, no Nesterov) over named parameter groups "weights", "tau", "imp", "norm_bias".

    tau and IMP take ``optimizer.lr`` unless ``tau_lr`` / ``imp_lr`` are set; each group has
    its own weight decay from the config.
    """
    opt = cfg.optimizer
    groups = parameter_groups(
        model,
        lr=opt.lr,
        weight_decay=opt.weight_decay,
        tau_lr=opt.tau_lr,
        imp_lr=opt.imp_lr,
        dynamics_lr=opt.dynamics_lr,
        tau_weight_decay=opt.tau_weight_decay,
        imp_weight_decay=opt.imp_weight_decay,
        dynamics_weight_decay=opt.dynamics_weight_decay,
        norm_bias_weight_decay=opt.norm_bias_weight_decay,
        extra_tau_parameters=extra_tau_parameters,
    )
    if opt.name == "adam":
        return torch.optim.Adam(groups, lr=opt.lr)
    if opt.name == "adamw":
        return torch.optim.AdamW(groups, lr=opt.lr)
    if opt.name == "sgd":
        return torch.optim.SGD(groups, lr=opt.lr, momentum=opt.momentum, nesterov=False)
    raise ConfigError(f"optimizer.name: {opt.name!r} is not one of ['adam', 'adamw', 'sgd']")


class WarmupCosine:
    """The lr factor of one group at epoch e (LambdaLR): linear warm-up, then torch's cosine annealing.

    For e < warmup_epochs: (e + 1) / (warmup_epochs + 1), so the first epoch already trains and
    epoch ``warmup_epochs`` is the first at the full lr. Then, with c = e - warmup_epochs, the lr
    is eta_min + (base_lr - eta_min) (1 + cos(pi c / t_max)) / 2: CosineAnnealingLR's closed form,
    which after t_max epochs climbs back up (period 2 t_max) as torch's does. A group whose
    base lr is 0 (a frozen parameter) stays at 0.
    """

    def __init__(self, base_lr: float, warmup_epochs: int, t_max: int, eta_min: float) -> None:
        self.base_lr = float(base_lr)
        self.warmup_epochs = int(warmup_epochs)
        self.t_max = int(t_max)
        self.eta_min = float(eta_min)

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return (epoch + 1) / (self.warmup_epochs + 1)
        if self.base_lr == 0:
            return 0.0
        cosine = (1 + math.cos(math.pi * (epoch - self.warmup_epochs) / self.t_max)) / 2
        return (self.eta_min + (self.base_lr - self.eta_min) * cosine) / self.base_lr


class ConfigLambdaLR(torch.optim.lr_scheduler.LambdaLR):
    """LambdaLR whose factors always come from the config, never from a checkpoint.

    torch saves a callable object's attributes in the state and restores them on load; a run
    resumed with a longer ``max_epochs`` would then keep the old cosine period.
    """

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["lr_lambdas"] = [None] * len(self.lr_lambdas)
        return state

    def apply_config(self) -> None:
        """Set each group's lr to the config's schedule at the current epoch (a checkpoint's lr may be the old schedule's)."""
        rates = [base * factor(self.last_epoch) for base, factor in zip(self.base_lrs, self.lr_lambdas)]
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = rates


def build_scheduler(
    cfg: ExperimentConfig, optimizer: torch.optim.Optimizer, max_epochs: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The per-epoch lr schedule (step it once per epoch): a LambdaLR of :class:`WarmupCosine`, or None.

    The cosine period is ``scheduler.t_max``, or ``max_epochs - warmup_epochs`` when unset.
    """
    sched = cfg.scheduler
    if sched.name == "none":
        return None
    if sched.name != "cosine":
        raise ConfigError(f"scheduler.name: {sched.name!r} is not one of ['cosine', 'none']")
    t_max = sched.t_max if sched.t_max is not None else max_epochs - sched.warmup_epochs
    if t_max < 1:
        raise ConfigError(
            f"scheduler: the cosine period is max_epochs ({max_epochs}) - warmup_epochs ({sched.warmup_epochs}) "
            f"= {t_max} epochs; it must be >= 1 (set scheduler.t_max or fewer warm-up epochs)"
        )
    factors = [
        WarmupCosine(group.get("initial_lr", group["lr"]), sched.warmup_epochs, t_max, sched.eta_min)
        for group in optimizer.param_groups
    ]
    return ConfigLambdaLR(optimizer, factors)

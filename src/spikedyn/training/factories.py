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
from spikedyn.models import build_model, model_options
from spikedyn.neurons import IF, LIF, PLIF
from spikedyn.param_groups import parameter_groups
from spikedyn.training.config import SURROGATES, ConfigError
from spikedyn.training.schema import ExperimentConfig, NeuronConfig

__all__ = [
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
    }
    if cfg.kind == "plif":
        return partial(PLIF, tau=cfg.tau, tau_shape=cfg.tau_shape, tau_init=cfg.tau_init, tau_std=cfg.tau_std,
                       decay_input=cfg.decay_input, **common)  # fmt: skip
    if cfg.kind == "lif":
        return partial(LIF, tau=cfg.tau, decay_input=cfg.decay_input, **common)
    if cfg.kind == "if":
        return partial(IF, **common)
    raise ConfigError(f"model.neuron.kind: {cfg.kind!r} is not one of ['plif', 'lif', 'if']")


def model_options_from_data(cfg: ExperimentConfig, info: DatasetInfo) -> dict[str, object]:
    """``cfg.model.options`` completed from the dataset: in_channels, input_size, num_classes, time_steps.

    Each is filled only where the model takes it and the config leaves it unset (a
    ``time_steps: null`` counts as unset); one the config sets must agree with the dataset.
    """
    name = cfg.model.name
    options = dict(cfg.model.options)
    if "neuron" in options:
        raise ConfigError("model.options.neuron: the neuron is set by model.neuron, not in model.options")
    accepted = model_options(name)
    channels, height, width = info.frame_shape
    from_data: dict[str, tuple[int, str]] = {
        "in_channels": (channels, f"its frames have {channels} channels (frame_shape {tuple(info.frame_shape)})"),
        "num_classes": (info.num_classes, f"it has {info.num_classes} classes"),
        "time_steps": (info.time_steps, f"it gives {info.time_steps} time steps"),
    }
    if "input_size" in accepted:
        if height != width:
            raise ConfigError(
                f"model {name!r} takes a square input_size, but dataset {info.name!r} gives {height}x{width} frames "
                f"(frame_shape {tuple(info.frame_shape)}); resize them to a square (data.options)"
            )
        from_data["input_size"] = (height, f"its frames are {height}x{width}")
    for option, (value, why) in from_data.items():
        if option not in accepted:
            continue
        given = options.get(option)
        if given is None:
            options[option] = value
        elif given != value:
            raise ConfigError(
                f"model.options.{option} is {given!r} but dataset {info.name!r} needs {value}: {why}; "
                f"remove model.options.{option} to take it from the data"
            )
    return options


def build_model_from_config(cfg: ExperimentConfig, info: DatasetInfo) -> nn.Module:
    """The network of ``cfg.model`` with its neuron, sized for the dataset ``info`` describes."""
    options = model_options_from_data(cfg, info)
    return build_model(cfg.model.name, neuron=neuron_factory(cfg.model.neuron), **options)


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
        tau_weight_decay=opt.tau_weight_decay,
        imp_weight_decay=opt.imp_weight_decay,
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

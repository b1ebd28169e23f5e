"""Optimiser parameter groups: weights, tau, IMP, the other learned dynamics and norm/bias each get their own lr and weight decay."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from spikedyn.neurons import PLIF, BaseNeuron

GROUPS = ("weights", "tau", "imp", "dynamics", "norm_bias")
#: The neuron parameters of the "dynamics" group: a learned threshold, ALIF's tau_a and beta, CubaLIF's tau_s.
DYNAMICS_PARAMETERS = ("threshold_param", "adaptation_logit", "adaptation_strength_param", "synaptic_logit")
NORM_TYPES = (_NormBase, nn.GroupNorm, nn.LayerNorm)


def split_parameters(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Trainable parameters by role ("weights", "tau", "imp", "dynamics", "norm_bias"), each once, in model order.

    tau: every PLIF ``tau_logit`` (ALIF's and CubaLIF's membrane tau too); imp: every neuron's
    ``imp``; dynamics: a learned threshold, ALIF's tau_a and beta, CubaLIF's tau_s; norm_bias:
    every parameter of a normalisation module and every parameter whose name ends in "bias";
    weights: the rest.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    role: dict[int, str] = {}
    for module in model.modules():
        if isinstance(module, NORM_TYPES):
            role.update((id(p), "norm_bias") for p in module.parameters())
    # Neuron parameters come last so that they win over a norm module that happens to hold a neuron.
    for module in model.modules():
        if isinstance(module, BaseNeuron) and module.imp is not None:
            role[id(module.imp)] = "imp"
        if isinstance(module, PLIF):
            role[id(module.tau_logit)] = "tau"
        if isinstance(module, BaseNeuron):
            role.update((id(param), "dynamics") for attribute in DYNAMICS_PARAMETERS if (param := getattr(module, attribute, None)) is not None)
    groups: dict[str, list[nn.Parameter]] = {group: [] for group in GROUPS}
    for name, param in model.named_parameters():  # shared parameters come once
        if not param.requires_grad:
            continue
        default = "norm_bias" if name.endswith("bias") else "weights"
        groups[role.get(id(param), default)].append(param)
    return groups


def _check_rate(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _group(name: str, params: list[nn.Parameter], lr: float, weight_decay: float) -> dict:
    return {"name": name, "params": params, "lr": lr, "weight_decay": weight_decay}


def _per_layer_tau_groups(
    model: nn.Module, tau_params: list[nn.Parameter], lr_of_count: Callable[[int], float], weight_decay: float
) -> list[dict]:
    trainable = {id(p) for p in tau_params}
    groups = []
    for name, module in model.named_modules():
        param = module.tau_logit if isinstance(module, PLIF) else None
        if param is None or id(param) not in trainable:
            continue
        trainable.discard(id(param))  # a tau shared by two PLIF modules gets one group
        count = param.numel()
        lr = _check_rate(f"tau_lr_per_layer({count}) for PLIF layer {name!r}", lr_of_count(count))
        groups.append(_group(f"tau:{name}", [param], lr, weight_decay))
    return groups


def parameter_groups(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float = 0.0,
    tau_lr: float | None = None,
    imp_lr: float | None = None,
    dynamics_lr: float | None = None,
    tau_weight_decay: float = 0.0,
    imp_weight_decay: float = 0.0,
    dynamics_weight_decay: float = 0.0,
    norm_bias_weight_decay: float = 0.0,
    tau_lr_per_layer: Callable[[int], float] | None = None,
    extra_tau_parameters: Iterable[nn.Parameter] = (),
) -> list[dict]:
    """Param-group dicts for torch.optim, named "weights", "tau", "imp", "dynamics", "norm_bias"; empty ones left out.

    tau and imp take ``lr`` unless given their own; dynamics takes ``tau_lr`` (the membrane's
    time constant's) unless given its own. With ``tau_lr_per_layer`` each PLIF layer gets
    a group "tau:<module name>" whose lr is ``tau_lr_per_layer(number of taus in the layer)`` (the
    per-neuron study saw the best tau lr fall as the count grows); the "tau" group then holds only
    ``extra_tau_parameters`` (e.g. a :class:`TauClusteringRegulariser`'s centres), at ``tau_lr``.
    """
    if tau_lr_per_layer is not None and not callable(tau_lr_per_layer):
        raise TypeError(f"tau_lr_per_layer must be a callable (count of taus) -> lr, got {tau_lr_per_layer!r}")
    lr = _check_rate("lr", lr)
    tau_lr = lr if tau_lr is None else _check_rate("tau_lr", tau_lr)
    imp_lr = lr if imp_lr is None else _check_rate("imp_lr", imp_lr)
    dynamics_lr = tau_lr if dynamics_lr is None else _check_rate("dynamics_lr", dynamics_lr)
    decays = {
        "weights": _check_rate("weight_decay", weight_decay),
        "tau": _check_rate("tau_weight_decay", tau_weight_decay),
        "imp": _check_rate("imp_weight_decay", imp_weight_decay),
        "dynamics": _check_rate("dynamics_weight_decay", dynamics_weight_decay),
        "norm_bias": _check_rate("norm_bias_weight_decay", norm_bias_weight_decay),
    }
    split = split_parameters(model)
    extras: list[nn.Parameter] = []
    for param in extra_tau_parameters:
        if not isinstance(param, torch.Tensor):
            raise TypeError(f"extra_tau_parameters must hold tensors (parameters), got {type(param).__name__}")
        if param.requires_grad and all(param is not other for other in extras):
            extras.append(param)
    # An extra parameter that also lives in the model (say the regulariser is a submodule) moves to tau.
    extra_ids = {id(p) for p in extras}
    split = {group: [p for p in params if id(p) not in extra_ids] for group, params in split.items()}

    groups = [_group("weights", split["weights"], lr, decays["weights"])]
    if tau_lr_per_layer is None:
        groups.append(_group("tau", split["tau"] + extras, tau_lr, decays["tau"]))
    else:
        groups += _per_layer_tau_groups(model, split["tau"], tau_lr_per_layer, decays["tau"])
        groups.append(_group("tau", extras, tau_lr, decays["tau"]))
    groups.append(_group("imp", split["imp"], imp_lr, decays["imp"]))
    groups.append(_group("dynamics", split["dynamics"], dynamics_lr, decays["dynamics"]))
    groups.append(_group("norm_bias", split["norm_bias"], lr, decays["norm_bias"]))
    return [group for group in groups if group["params"]]

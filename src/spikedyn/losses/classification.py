"""Classification losses over an output sequence y [T, B, C], each with its own prediction rule."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import torch
import torch.nn.functional as F

Options = Mapping[str, float]


def _check_output(y: object) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a tensor [T, B, C], got {type(y).__name__}")
    if y.dim() != 3:
        raise ValueError(f"y must be a 3-D tensor [T, B, C], got shape {tuple(y.shape)}")
    if not y.is_floating_point():
        raise TypeError(f"y must be a floating-point tensor, got dtype {y.dtype}")
    if 0 in y.shape:
        raise ValueError(f"y needs at least one time step, sample and class, got shape {tuple(y.shape)}")
    return y


def _check_labels(labels: object, y: torch.Tensor) -> torch.Tensor:
    _, batch, classes = y.shape
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be an integer tensor [B], got {type(labels).__name__}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor (class indices), got dtype {labels.dtype}")
    if labels.dim() != 1 or labels.shape[0] != batch:
        raise ValueError(
            f"labels must have shape [B] = [{batch}] to match y {tuple(y.shape)}, got {tuple(labels.shape)}"
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        raise ValueError(f"labels must lie in [0, {classes}) for C={classes} classes, got values in [{low}, {high}]")
    return labels.long()


def _mse_rate(y: torch.Tensor, labels: torch.Tensor, _: Options) -> torch.Tensor:
    # The PLIF authors' code (codes/train.py L323-325): one MSE of the firing rate averaged over T.
    return F.mse_loss(y.mean(0), F.one_hot(labels, y.shape[2]).to(y.dtype))


def _mse_per_step(y: torch.Tensor, labels: torch.Tensor, _: Options) -> torch.Tensor:
    # The PLIF paper's Sec. 3.7: L = 1/T sum_t 1/C sum_i (o_t,i - y_i)^2, the mean of per-step MSEs. It
    # exceeds mse_rate by the mean over classes of each output's variance over time.
    return F.mse_loss(y, F.one_hot(labels, y.shape[2]).to(y.dtype).expand_as(y))


def _sdt(y: torch.Tensor, labels: torch.Tensor, _: Options) -> torch.Tensor:
    return F.cross_entropy(y.mean(0), labels)


def _mean_step_cross_entropy(y: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    steps, batch, classes = y.shape
    # Every step has B samples, so the mean over all T*B equals the mean of per-step means.
    return F.cross_entropy(y.reshape(steps * batch, classes), labels.repeat(steps), label_smoothing=label_smoothing)


def _tet(y: torch.Tensor, labels: torch.Tensor, options: Options) -> torch.Tensor:
    # The TET paper's released code (brain-intelligence-lab/temporal_efficient_training, functions.py
    # L39-51): (1 - lamb) * mean_t CE(y[t]) + lamb * MSE(y, means), the MSE over all of T x B x C.
    loss = _mean_step_cross_entropy(y, labels)
    weight = options["mse_weight"]
    if weight == 0.0:
        return loss
    regulariser = F.mse_loss(y, torch.full_like(y, options["phi"]))
    return (1.0 - weight) * loss + weight * regulariser


def _tet_s(y: torch.Tensor, labels: torch.Tensor, options: Options) -> torch.Tensor:
    # The IMP paper's TET-S: TET without the MSE term, on labels smoothed to (1 - eps) onehot + eps / C.
    return _mean_step_cross_entropy(y, labels, options["label_smoothing"])


def _lts(y: torch.Tensor, labels: torch.Tensor, _: Options) -> torch.Tensor:
    return F.cross_entropy(y[-1], labels)


def _predict_mean(y: torch.Tensor) -> torch.Tensor:
    return y.mean(0).argmax(1)


def _predict_last(y: torch.Tensor) -> torch.Tensor:
    return y[-1].argmax(1)


def _unit_interval(name: str, value: float, upper_open: bool) -> None:
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0
    if not ok:
        raise ValueError(f"{name} must lie in [0, 1{')' if upper_open else ']'}, got {value!r}")


def _check_options(options: Options) -> None:
    if "mse_weight" in options:
        _unit_interval("mse_weight", options["mse_weight"], upper_open=False)
    if "label_smoothing" in options:
        _unit_interval("label_smoothing", options["label_smoothing"], upper_open=True)


@dataclass(frozen=True)
class LossRule:
    """How one named loss is computed, how it predicts, and which options it takes (with defaults)."""

    compute: Callable[[torch.Tensor, torch.Tensor, Options], torch.Tensor]
    predict: Callable[[torch.Tensor], torch.Tensor]
    defaults: Options = field(default_factory=dict)
    description: str = ""


#: The TET paper's released defaults (main_training_parallel.py L60-74: --lamb 1e-3, --means 1.0;
#: its main_training_distribute.py uses --lamb 1e-4). The IMP paper's own TET baselines have no MSE
#: term (its code's TETClsHead): their configs set mse_weight 0 explicitly.
TET_DEFAULTS = {"mse_weight": 1e-3, "phi": 1.0}
#: Every released IMP config smooths with 0.01 (mmpretrain LabelSmoothLoss, label_smooth_val=0.01).
TET_S_DEFAULTS = {"label_smoothing": 0.01}

LOSSES: Mapping[str, LossRule] = MappingProxyType(
    {
        "mse_rate": LossRule(_mse_rate, _predict_mean, {}, "MSE between the mean output and the one-hot label (PLIF code)"),
        "mse_per_step": LossRule(_mse_per_step, _predict_mean, {}, "mean over t of the MSE of y[t] and the one-hot label (PLIF Sec. 3.7)"),
        "sdt": LossRule(_sdt, _predict_mean, {}, "cross-entropy of the mean output"),
        "tet": LossRule(_tet, _predict_mean, TET_DEFAULTS, "(1 - lambda) mean_t CE(y[t]) + lambda MSE(y, phi) (TET)"),
        "tet_s": LossRule(_tet_s, _predict_mean, TET_S_DEFAULTS, "mean_t CE(y[t]) on smoothed labels, no MSE term (IMP's TET-S)"),
        "lts": LossRule(_lts, _predict_last, {}, "cross-entropy of the last step y[T-1]"),
    }
)


@dataclass(frozen=True)
class SequenceLoss:
    """A named loss over y [T, B, C] and labels [B]; ``predict`` applies the matching decision rule."""

    name: str
    options: Options = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise ValueError(f"unknown loss {self.name!r}; known losses: {sorted(LOSSES)}")
        defaults = LOSSES[self.name].defaults
        unknown = sorted(set(self.options) - set(defaults))
        if unknown:
            valid = sorted(defaults) or "none"
            raise TypeError(f"loss {self.name!r} has no option(s) {unknown}; valid options: {valid}")
        resolved = dict(defaults)
        for key, value in self.options.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"option {key}={value!r} of loss {self.name!r} must be a finite number")
            resolved[key] = float(value)
        _check_options(resolved)
        object.__setattr__(self, "options", MappingProxyType(resolved))

    def __call__(self, y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The scalar loss of the output sequence y [T, B, C] against integer labels [B]."""
        y = _check_output(y)
        return LOSSES[self.name].compute(y, _check_labels(labels, y), self.options)

    def predict(self, y: torch.Tensor) -> torch.Tensor:
        """Predicted classes [B] (int64) by the rule that belongs to this loss."""
        return LOSSES[self.name].predict(_check_output(y))


def get_loss(name: str, **options: float) -> SequenceLoss:
    """The loss ``name`` (one of ``LOSSES``) with its options, checked now rather than mid-training."""
    return SequenceLoss(name, options)

"""Penalties on the spread of learned membrane time constants within each PLIF layer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from spikedyn.neurons import PLIF

Lambda = float | Mapping[str, float] | Sequence[float]
SPACES = ("a", "tau")


def plif_layers(model: nn.Module) -> list[tuple[str, PLIF]]:
    """The named PLIF modules of ``model`` in model order (the model itself is named "")."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [(name, module) for name, module in model.named_modules() if isinstance(module, PLIF)]


def _check_space(on: str) -> str:
    if on not in SPACES:
        raise ValueError(f"on={on!r} is not supported; expected 'a' (the raw parameter) or 'tau' (1 + exp(-a))")
    return on


def _check_lambda(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_lambda_form(lam: object) -> None:
    if isinstance(lam, (str, bytes)) or not isinstance(lam, (int, float, Mapping, Sequence)):
        raise TypeError(
            f"lam must be a number, a mapping from PLIF layer name to number or a sequence of numbers, "
            f"got {type(lam).__name__}"
        )


def layer_lambdas(names: Sequence[str], lam: Lambda) -> list[float]:
    """One lambda per PLIF layer from a number, a {layer name: lambda} mapping or a sequence."""
    _check_lambda_form(lam)
    if isinstance(lam, Mapping):
        unknown = sorted(set(lam) - set(names))
        if unknown:
            raise ValueError(f"lam names {unknown} are not PLIF layers; the PLIF layers are {list(names)}")
        return [_check_lambda(f"lam[{name!r}]", lam[name]) if name in lam else 0.0 for name in names]
    if isinstance(lam, Sequence):
        if len(lam) != len(names):
            raise ValueError(f"lam has {len(lam)} values; expected {len(names)}, one per PLIF layer {list(names)}")
        return [_check_lambda(f"lam[{i}]", value) for i, value in enumerate(lam)]
    value = _check_lambda("lam", lam)
    return [value] * len(names)


def tau_values(neuron: PLIF, on: str = "a") -> torch.Tensor:
    """A layer's tau parameters, flattened, as a (``on="a"``) or as tau = 1 + exp(-a) (``on="tau"``)."""
    a = neuron.tau_logit.reshape(-1)
    return a if _check_space(on) == "a" else 1.0 + torch.exp(-a)


def _zero_like_parameters(model: nn.Module) -> torch.Tensor:
    first = next(model.parameters(), None)
    return torch.zeros(()) if first is None else torch.zeros((), dtype=first.dtype, device=first.device)


def tau_variance_penalty(model: nn.Module, lam: Lambda, on: str = "a") -> torch.Tensor:
    """lam * sum over PLIF layers of var(tau parameters) (unbiased): pulls each layer's taus together.

    ``on="a"`` takes the variance of the raw parameter (as the per-neuron study's code does),
    ``on="tau"`` that of tau = 1 + exp(-a) (as its poster writes). Layers with a single tau add 0.
    """
    layers = plif_layers(model)
    _check_space(on)
    lams = layer_lambdas([name for name, _ in layers], lam)
    total: torch.Tensor | None = None
    for (_, neuron), weight in zip(layers, lams):
        if weight == 0.0 or neuron.tau_logit.numel() < 2:
            continue
        term = weight * torch.var(tau_values(neuron, on))
        total = term if total is None else total + term
    return _zero_like_parameters(model) if total is None else total


class TauVarianceRegulariser(nn.Module):
    """:func:`tau_variance_penalty` as a module: ``regulariser(model)`` gives the penalty."""

    def __init__(self, lam: Lambda, on: str = "a") -> None:
        super().__init__()
        _check_lambda_form(lam)
        self.lam = lam
        self.on = _check_space(on)

    def forward(self, model: nn.Module) -> torch.Tensor:
        return tau_variance_penalty(model, self.lam, self.on)

    def extra_repr(self) -> str:
        return f"lam={self.lam!r}, on={self.on!r}"


def _centre_key(name: str) -> str:
    return name.replace(".", "_") or "_root"


class TauClusteringRegulariser(nn.Module):
    """Pull each tau toward its nearest of K learnable centres per PLIF layer, not toward one mean.

    The per-neuron study's proposal for heterogeneous networks: the penalty is
    lam * sum over layers of mean_i min_k (v_i - c_k)^2 with v = a (``on="a"``) or tau
    (``on="tau"``); the gradient reaches the values and each value's nearest centre. With
    K = 1 and the centre at the mean it equals the population (biased) variance. Centres start
    at the layer's (i + 0.5)/K quantiles. They are parameters: give them to the optimiser
    (``parameter_groups(..., extra_tau_parameters=reg.parameters())``) with no weight decay.
    Layers with a single tau are skipped; ``lam`` takes the forms of :func:`tau_variance_penalty`.
    """

    def __init__(self, model: nn.Module, num_centres: int, lam: Lambda, on: str = "a") -> None:
        super().__init__()
        if isinstance(num_centres, bool) or not isinstance(num_centres, int):
            raise TypeError(f"num_centres must be an int, got {type(num_centres).__name__}")
        if num_centres < 1:
            raise ValueError(f"num_centres must be >= 1, got {num_centres}")
        self.on = _check_space(on)
        self.num_centres = num_centres
        layers = plif_layers(model)
        self.layer_names = tuple(name for name, _ in layers)
        self._layer_sizes = tuple(neuron.tau_logit.numel() for _, neuron in layers)
        self.lams = tuple(layer_lambdas(self.layer_names, lam))
        self.centres = nn.ParameterDict()
        for name, neuron in layers:
            values = tau_values(neuron, on).detach()
            if values.numel() < 2:
                continue
            if values.numel() < num_centres:
                raise ValueError(
                    f"PLIF layer {name!r} has {values.numel()} tau values, fewer than num_centres={num_centres}"
                )
            key = _centre_key(name)
            if key in self.centres:
                raise ValueError(f"PLIF layer names {name!r} and another map to the same centre key {key!r}")
            levels = (torch.arange(num_centres, dtype=torch.float64) + 0.5) / num_centres
            initial = torch.quantile(values.double(), levels.to(values.device)).to(values.dtype)
            self.centres[key] = nn.Parameter(initial)

    def forward(self, model: nn.Module) -> torch.Tensor:
        """The clustering penalty of ``model``'s current taus (the model seen at construction)."""
        layers = plif_layers(model)
        found = tuple((name, neuron.tau_logit.numel()) for name, neuron in layers)
        expected = tuple(zip(self.layer_names, self._layer_sizes))
        if found != expected:
            raise ValueError(
                f"the model's PLIF layers (name, number of taus) {list(found)} differ from those at "
                f"construction {list(expected)}"
            )
        total: torch.Tensor | None = None
        for (name, neuron), weight in zip(layers, self.lams):
            key = _centre_key(name)
            if weight == 0.0 or key not in self.centres:
                continue
            values = tau_values(neuron, self.on)
            squared = (values.unsqueeze(1) - self.centres[key].unsqueeze(0)).square()
            term = weight * squared.min(dim=1).values.mean()
            total = term if total is None else total + term
        return _zero_like_parameters(model) if total is None else total

    def extra_repr(self) -> str:
        return f"num_centres={self.num_centres}, lams={self.lams}, on={self.on!r}"

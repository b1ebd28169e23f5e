"""SpikingJelly 2.0's stateless layers as plain torch layers and spikedyn's time-aware layers.

A SpikingJelly ``layer.Conv2d`` (and its siblings) is the torch layer with a step mode: in
multi-step mode it folds [T, B, ...] into [T*B, ...] like :class:`TimeDistributed`. Each is
rebuilt as the plain torch class with its tensors copied, so nothing aliases the source.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable
from types import SimpleNamespace

import torch
from torch import nn

from spikedyn.layers import SpikeAvgPool2d, SpikeMaxPool2d, TemporalDropout, TimeDistributed, VotingLayer

INSTALL = "pip install --no-deps spikingjelly==2.0.0"


class Refused(Exception):
    """Why one module cannot be converted; the caller adds its path in the network."""


@functools.cache
def spikingjelly_modules() -> SimpleNamespace:
    """SpikingJelly 2.0's ``layer``, ``neuron`` and ``surrogate`` modules, imported on first use."""
    try:
        from spikingjelly.activation_based import layer, neuron, surrogate
    except ImportError as error:
        raise ImportError(f"from_spikingjelly needs SpikingJelly 2.0 ({INSTALL}): {error}") from error
    version = importlib.metadata.version("spikingjelly")
    if not version.startswith("2."):
        raise ImportError(f"from_spikingjelly reads SpikingJelly 2.0's modules, found spikingjelly {version} ({INSTALL})")
    return SimpleNamespace(layer=layer, neuron=neuron, surrogate=surrogate)


def _bias(module: nn.Module) -> bool:
    return module.bias is not None


def _conv(cls: type[nn.Module]) -> Callable[..., nn.Module]:
    return lambda m, **kw: cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                               m.groups, _bias(m), m.padding_mode, **kw)  # fmt: skip


def _batch_norm(cls: type[nn.Module]) -> Callable[..., nn.Module]:
    return lambda m, **kw: cls(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats, **kw)


def _max_pool(cls: type[nn.Module]) -> Callable[..., nn.Module]:
    def build(m: nn.Module) -> nn.Module:
        if m.return_indices:
            raise Refused("return_indices=True makes it return (values, indices), not a tensor")
        return cls(m.kernel_size, m.stride, m.padding, m.dilation, ceil_mode=m.ceil_mode)

    return build


#: torch class -> how to build an equal one from a module of that class (or a SpikingJelly
#: subclass); the keyword arguments are the device and dtype of modules that hold tensors.
PLAIN_LAYERS: dict[type[nn.Module], Callable[..., nn.Module]] = {
    nn.Conv1d: _conv(nn.Conv1d),
    nn.Conv2d: _conv(nn.Conv2d),
    nn.Linear: lambda m, **kw: nn.Linear(m.in_features, m.out_features, _bias(m), **kw),
    nn.BatchNorm1d: _batch_norm(nn.BatchNorm1d),
    nn.BatchNorm2d: _batch_norm(nn.BatchNorm2d),
    nn.MaxPool1d: _max_pool(nn.MaxPool1d),
    nn.MaxPool2d: _max_pool(nn.MaxPool2d),
    nn.AvgPool1d: lambda m: nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad),
    nn.AvgPool2d: lambda m: nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override),
    nn.AdaptiveAvgPool2d: lambda m: nn.AdaptiveAvgPool2d(m.output_size),
    nn.Flatten: lambda m: nn.Flatten(m.start_dim, m.end_dim),
    nn.Dropout: lambda m: nn.Dropout(m.p, m.inplace),  # inside SeqToANNContainer: a new mask per step, as there
    nn.Identity: lambda m: nn.Identity(),
}
#: SpikingJelly's step-mode wrappers of the torch layers above share their class names.
WRAPPED_NAMES = ("Conv1d", "Conv2d", "Linear", "BatchNorm1d", "BatchNorm2d", "MaxPool1d", "MaxPool2d",
                 "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten")  # fmt: skip
PLAIN_NAMES = ", ".join(cls.__name__ for cls in PLAIN_LAYERS)


def wrapped_torch_class(module: nn.Module) -> type[nn.Module] | None:
    """The torch class that a SpikingJelly ``layer.X`` wraps (exactly that SpikingJelly class), else None."""
    layer = spikingjelly_modules().layer
    name = type(module).__name__
    return getattr(nn, name) if name in WRAPPED_NAMES and type(module) is getattr(layer, name) else None


def check_unhooked(module: nn.Module) -> None:
    """Refuse a module whose forward pass is hooked or replaced: what the hook does cannot be converted."""
    hooks = (module._forward_hooks, module._forward_pre_hooks, module._backward_hooks, module._backward_pre_hooks)
    if any(hooks) or "forward" in vars(module):
        raise Refused("its forward pass is hooked or replaced (a monitor, weight norm, pruning?): remove the hooks "
                      "first, or fold what they do into the weights")  # fmt: skip


def plain_layer(module: nn.Module) -> nn.Module:
    """A plain torch copy of a per-sample layer: a supported torch layer or a SpikingJelly wrapper of one."""
    cls = type(module) if type(module) in PLAIN_LAYERS else wrapped_torch_class(module)
    if cls is None:
        raise Refused(f"no rule converts it; the stateless layers converted are {PLAIN_NAMES}")
    tensors = list(module.parameters()) + list(module.buffers())
    like = next((t for t in tensors if t.is_floating_point()), None)
    kwargs = {} if like is None else {"device": like.device, "dtype": like.dtype}
    plain = PLAIN_LAYERS[cls](module, **kwargs)
    try:
        plain.load_state_dict(module.state_dict())  # copies, so nothing aliases the source
    except RuntimeError as error:
        raise Refused(f"its tensors are not those of a plain {cls.__name__}: {error}") from error
    sources = dict(module.named_parameters())
    for name, copied in plain.named_parameters():
        copied.requires_grad_(sources[name].requires_grad)
    return plain.train(module.training)


def check_multi_step(module: nn.Module) -> None:
    """Refuse a SpikingJelly module in single-step mode: spikedyn's layers take the whole sequence."""
    if module.step_mode != "m":
        raise Refused(f"it is in single-step mode (step_mode={module.step_mode!r}) and spikedyn's layers take the whole "
                      "sequence [T, B, ...]: call functional.set_step_mode(net, 'm') before converting")  # fmt: skip


def check_no_memory(module: nn.Module) -> None:
    """Refuse a SpikingJelly module that keeps a tensor from an earlier call: the converted one starts afresh."""
    for name, value in module._memories.items():
        if isinstance(value, torch.Tensor):
            raise Refused(f"it holds its {name!r} from an earlier call, which the next call would start from; "
                          "call functional.reset_net(net) before converting")  # fmt: skip


def _pool(plain: nn.Module) -> nn.Module:
    """SpikeMaxPool2d or SpikeAvgPool2d where they express the pooling exactly, else TimeDistributed."""
    if type(plain) is nn.MaxPool2d and plain.dilation in (1, (1, 1)) and not plain.ceil_mode:
        return SpikeMaxPool2d(plain.kernel_size, plain.stride, plain.padding)
    if type(plain) is nn.AvgPool2d and not plain.ceil_mode and plain.count_include_pad and plain.divisor_override is None:
        return SpikeAvgPool2d(plain.kernel_size, plain.stride, plain.padding)
    return TimeDistributed(plain)


def multi_step_layer(module: nn.Module) -> nn.Module | None:
    """The spikedyn layer for a multi-step SpikingJelly layer, or None when ``module`` is none of them."""
    layer = spikingjelly_modules().layer
    if type(module) is layer.Dropout:
        check_multi_step(module)
        check_no_memory(module)
        return TemporalDropout(module.p).train(module.training)  # SpikingJelly: one mask for all steps, until reset
    if type(module) is layer.VotingLayer:
        check_multi_step(module)
        return VotingLayer(module.voting_size).train(module.training)
    if wrapped_torch_class(module) is None:
        return None
    check_multi_step(module)
    plain = plain_layer(module)
    return (_pool(plain) if isinstance(plain, (nn.MaxPool2d, nn.AvgPool2d)) else TimeDistributed(plain)).train(module.training)

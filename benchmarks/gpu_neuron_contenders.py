"""The neuron implementations gpu_neuron.py races, and the process groups they run in.

Every builder takes (N, device) and returns (module, forward) for inputs [T, B, N]; forward
is what a user's training loop calls, so SpikingJelly's ``functional.reset_net`` runs inside it
(SJ keeps the membrane state in the module and a loop must reset it before every batch).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gpu_sj import implementation_env

Forward = Callable[[torch.Tensor], torch.Tensor]
Builder = Callable[[int, torch.device], "tuple[nn.Module, Forward]"]
ALL_DTYPES = ("float32", "bfloat16")


@dataclass(frozen=True)
class Group:
    """Contenders that share one worker process: its environment and its share of the time budget."""

    name: str
    env: dict[str, str]
    share: float
    needs_native: bool = False


@dataclass(frozen=True)
class Contender:
    """One implementation; ``steps`` limits it to some T, ``user_first`` adds the user-loop row."""

    name: str
    backend: str
    group: str
    package: str
    build: Builder
    cuda_only: bool = False
    dtypes: tuple[str, ...] = ALL_DTYPES
    steps: tuple[int, ...] | None = None
    user_first: bool = False
    notes: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """'name [backend]'."""
        return f"{self.name} [{self.backend}]"

    def available(self) -> bool:
        """Whether its package can be imported here."""
        return importlib.util.find_spec(self.package) is not None


def spikedyn_builder(kind: str, backend: str, tau_shape: str = "layer", imp: str | None = None) -> Builder:
    """spikedyn IF, LIF (tau=2) or PLIF (tau_0=2, ``tau_shape``), optionally with IMP, on ``backend``."""

    def build(neurons: int, device: torch.device) -> tuple[nn.Module, Forward]:
        from spikedyn.neurons import IF, LIF, PLIF

        options: dict[str, Any] = dict(shape=(neurons,), imp=imp, backend=backend)
        if kind == "IF":
            module = IF(**options)
        elif kind == "LIF":
            module = LIF(tau=2.0, **options)
        else:
            module = PLIF(tau=2.0, tau_shape=tau_shape, **options)
        module = module.to(device)
        return module, module

    return build


def spikingjelly_builder(bf16_state: bool = False) -> Builder:
    """SJ 2.0 ParametricLIFNode as the PLIF paper configures it; ``bf16_state`` uses SJ's precision API
    (PrecisionConfig(mode='bf16', neuron_storage='bf16')), the Triton path SJ offers for bfloat16 inputs."""

    def build(neurons: int, device: torch.device) -> tuple[nn.Module, Forward]:
        from spikingjelly.activation_based import functional, neuron, surrogate

        node = neuron.ParametricLIFNode(
            init_tau=2.0, detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan()
        ).to(device)
        if bf16_state:
            from spikingjelly.activation_based.precision.api import prepare_model_for_precision
            from spikingjelly.activation_based.precision.config import PrecisionConfig

            node = prepare_model_for_precision(node, device, PrecisionConfig(mode="bf16", neuron_storage="bf16")).model

        def forward(x: torch.Tensor) -> torch.Tensor:
            functional.reset_net(node)
            return node(x)

        return node, forward

    return build


class NorseLIF(nn.Module):
    """Norse 1.1's LIF with a learnable per-neuron 1/tau_mem, registered here so optimizers see it.

    With dt * tau_syn_inv = 1 the synaptic current holds one step's input only and
    dt * tau_mem_inv = 0.5 is k = 1/tau of tau = 2: the dynamics of spikedyn's LIF (decay_input=True,
    hard reset to 0, V_th = 1), with Norse's SuperSpike surrogate.
    """

    DT = 1e-3

    def __init__(self, neurons: int) -> None:
        super().__init__()
        import norse.torch as norse

        self.tau_mem_inv = nn.Parameter(torch.full((neurons,), 0.5 / self.DT))
        params = norse.LIFParameters(
            tau_syn_inv=torch.as_tensor(1.0 / self.DT), tau_mem_inv=self.tau_mem_inv,
            v_leak=torch.as_tensor(0.0), v_th=torch.as_tensor(1.0), v_reset=torch.as_tensor(0.0),
        )  # fmt: skip
        self.lif = norse.LIF(p=params, dt=self.DT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes [T, B, N] (Norse also returns the final state, dropped here)."""
        return self.lif(x)[0]


def norse_compiled(neurons: int, device: torch.device) -> tuple[nn.Module, Forward]:
    """NorseLIF under torch.compile (default options)."""
    module = NorseLIF(neurons).to(device)
    if module.lif.p.tau_mem_inv is not module.tau_mem_inv:  # in case .to() made a new Parameter
        module.lif.p = module.lif.p._replace(tau_mem_inv=module.tau_mem_inv)
    return module, torch.compile(module)


def snntorch_leaky(neurons: int, device: torch.device) -> tuple[nn.Module, Forward]:
    """snnTorch Leaky(beta=0.5, learn_beta=True) looped over T: benchmarks/neuron.py's builder, on ``device``."""
    from neuron import snntorch_build

    module, forward = snntorch_build(neurons)
    return module.to(device), forward


GROUPS = (
    Group("spikedyn", {}, 0.30),
    Group("sj-triton", implementation_env("triton", ("plif",)), 0.12),
    Group("peers", {}, 0.18),
    Group("sj-cuda", implementation_env("cuda", ("plif",)), 0.10, needs_native=True),
    Group("sj-auto", implementation_env("auto", ("plif",)), 0.15, needs_native=True),
    Group("sj-torch", implementation_env("torch", ("plif",)), 0.15),
)

CONTENDERS = (
    Contender("spikedyn PLIF(layer)", "triton", "spikedyn", "spikedyn", spikedyn_builder("PLIF", "triton"), user_first=True),
    Contender("spikedyn PLIF(neuron)+IMP", "triton", "spikedyn", "spikedyn", spikedyn_builder("PLIF", "triton", "neuron", "neuron")),
    Contender("spikedyn PLIF(neuron)", "triton", "spikedyn", "spikedyn", spikedyn_builder("PLIF", "triton", "neuron")),
    Contender("spikedyn LIF", "triton", "spikedyn", "spikedyn", spikedyn_builder("LIF", "triton")),
    Contender("spikedyn IF", "triton", "spikedyn", "spikedyn", spikedyn_builder("IF", "triton")),
    Contender("spikedyn PLIF(layer)", "fused", "spikedyn", "spikedyn", spikedyn_builder("PLIF", "fused")),
    Contender("SJ PLIF", "triton", "sj-triton", "spikingjelly", spikingjelly_builder(), cuda_only=True, dtypes=("float32",), user_first=True),
    Contender("SJ PLIF", "triton bf16-state", "sj-triton", "spikingjelly", spikingjelly_builder(bf16_state=True), cuda_only=True, dtypes=("bfloat16",)),
    Contender("snnTorch Leaky", "eager", "peers", "snntorch", snntorch_leaky),
    Contender("Norse LIF", "torch.compile", "peers", "norse", norse_compiled, dtypes=("float32",), steps=(16,)),
    Contender("SJ PLIF", "cuda", "sj-cuda", "spikingjelly", spikingjelly_builder(), cuda_only=True, dtypes=("float32",), user_first=True),
    Contender("SJ PLIF", "auto", "sj-auto", "spikingjelly", spikingjelly_builder(), user_first=True),
    Contender("SJ PLIF", "torch", "sj-torch", "spikingjelly", spikingjelly_builder(), cuda_only=True, dtypes=("float32",), steps=(16,)),
)

"""What benchmarks/neuron.py races: problem sizes, measuring modes, and the neuron implementations."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench_common import package_version

BATCH = 64

# --------------------------------------------------------------------------- configurations


@dataclass(frozen=True)
class Config:
    """One problem size: T steps, a batch of BATCH, N = total // BATCH neurons of shape (N,)."""

    steps: int
    total: int

    @property
    def neurons(self) -> int:
        """N, the feature size of one sample."""
        return self.total // BATCH

    def label(self) -> str:
        """'T=16 B*N=2**20'."""
        return f"T={self.steps} B*N=2**{self.total.bit_length() - 1}"


FULL_CONFIGS = tuple(Config(t, n) for t in (8, 16) for n in (1 << 16, 1 << 20))
QUICK_CONFIGS = (Config(4, 1 << 12),)
SUMMARY_CONFIG, QUICK_SUMMARY_CONFIG = Config(16, 1 << 20), QUICK_CONFIGS[0]


@dataclass(frozen=True)
class Mode:
    """How a step is driven: which input, which loss, which allocator."""

    name: str
    allocator: str  # "default" (glibc as is) or "tuned" (tune_cpu_allocator)
    fresh_input: bool  # a new randn x per step (made before the timer), else one fixed x
    sum_loss: bool  # spikes.sum().backward() (a stride-0 incoming gradient), else spikes.backward(g)

    def describe(self) -> dict[str, str]:
        """The mode's settings as JSON fields."""
        return {
            "allocator": self.allocator,
            "input": "fresh randn per step" if self.fresh_input else "fixed 1.5 randn + 0.5",
            "loss": "spikes.sum().backward()" if self.sum_loss else "spikes.backward(g)",
        }


MODES = {
    m.name: m
    for m in (
        Mode("user-first", "default", fresh_input=True, sum_loss=True),
        Mode("best-default", "default", fresh_input=False, sum_loss=False),
        Mode("best-tuned", "tuned", fresh_input=False, sum_loss=False),
    )
}

# --------------------------------------------------------------------------- contenders

Forward = Callable[[Any], Any]
Builder = Callable[[int], "tuple[Any, Forward]"]


@dataclass(frozen=True)
class Contender:
    """A neuron implementation: ``build(N)`` returns (module, forward) for inputs [T, B, N]."""

    name: str
    backend: str
    build: Builder
    package: str
    release: str = ""  # the peer's release this contender is written for, as a version prefix

    @property
    def key(self) -> str:
        """Unique name, also what --only matches against."""
        return f"{self.name} [{self.backend}]"

    def missing(self) -> str | None:
        """Why it cannot run here (package absent, or another release than it is written for), else None."""
        if importlib.util.find_spec(self.package) is None:
            return f"package {self.package!r} is not installed"
        version = package_version(self.package) or "?"
        if self.release and not f"{version}.".startswith(f"{self.release}."):
            return f"{self.package} {version} is installed, this contender is written for {self.release}"
        return None


def spikedyn_builder(kind: str, imp: str | None, backend: str) -> Builder:
    """LIF (kind='LIF') or PLIF with tau_shape=kind, tau=2, on the given spikedyn backend."""

    def build(neurons: int) -> tuple[Any, Forward]:
        from spikedyn.neurons import LIF, PLIF

        options = dict(shape=(neurons,), imp=imp, backend=backend)
        module = LIF(tau=2.0, **options) if kind == "LIF" else PLIF(tau=2.0, tau_shape=kind, **options)
        return module, module

    return build


def spikingjelly_builder(compiled: bool) -> Builder:
    """SpikingJelly 2.0's multi-step ParametricLIFNode, eager or under torch.compile; reset before each call."""

    def build(neurons: int) -> tuple[Any, Forward]:
        import torch
        from spikingjelly.activation_based import functional, neuron, surrogate

        node = neuron.ParametricLIFNode(
            init_tau=2.0, detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan(),
        )  # fmt: skip
        call = torch.compile(node) if compiled else node

        def forward(x: Any) -> Any:
            functional.reset_net(node)
            return call(x)

        return node, forward

    return build


def snntorch_build(neurons: int) -> tuple[Any, Forward]:
    """snnTorch 1.0's Leaky with a learnable beta, looped over T by hand as its tutorials do."""
    import snntorch
    import torch

    leaky = snntorch.Leaky(beta=0.5, learn_beta=True)

    def forward(x: Any) -> Any:
        mem = leaky.reset_mem()
        spikes = []
        for x_t in x:
            spk, mem = leaky(x_t, mem)
            spikes.append(spk)
        return torch.stack(spikes)

    return leaky, forward


def norse_build(neurons: int) -> tuple[Any, Forward]:
    """Norse 1.1's LIF over time with a learnable tau_mem_inv (a parameter inside LIFParameters, as Norse's guide does).

    dt * tau_mem_inv = 0.5 is k = 1/tau of tau = 2, and dt * tau_syn_inv = 1 makes the synaptic current hold
    one step's input only: PLIF's charge with decay_input, hard reset to 0 and V_th = 1 (Norse's defaults).
    """
    import torch
    from norse.torch import LIF, LIFParameters

    dt = 1e-3
    tau_mem_inv = torch.nn.Parameter(torch.tensor(0.5 / dt))
    lif = LIF(p=LIFParameters(tau_syn_inv=torch.tensor(1.0 / dt), tau_mem_inv=tau_mem_inv), dt=dt)
    lif.tau_mem_inv = tau_mem_inv  # registered, so zero_grad and the parameter list see it

    def forward(x: Any) -> Any:
        spikes, _ = lif(x)
        return spikes

    return lif, forward


def all_contenders() -> list[Contender]:
    """Every contender, installed or not, in table order."""
    contenders = []
    for backend in ("fused", "reference"):
        for kind, label in (("LIF", "LIF"), ("layer", "PLIF(layer)"), ("neuron", "PLIF(neuron)")):
            for imp in (None, "neuron"):
                name = f"spikedyn {label}" + ("+IMP" if imp else "")
                contenders.append(Contender(name, backend, spikedyn_builder(kind, imp, backend), "spikedyn"))
    contenders.append(Contender("SJ PLIF", "eager", spikingjelly_builder(False), "spikingjelly", "2.0"))
    contenders.append(Contender("SJ PLIF", "torch.compile", spikingjelly_builder(True), "spikingjelly", "2.0"))
    contenders.append(Contender("snnTorch Leaky", "eager", snntorch_build, "snntorch", "1.0"))
    contenders.append(Contender("Norse LIF", "eager", norse_build, "norse", "1.1"))
    from neuron_extended_contenders import extended_contenders  # it builds on this module's Contender

    return contenders + extended_contenders()


CONTENDERS = {c.key: c for c in all_contenders()}

"""The neurons beyond tau in benchmarks/neuron.py: spikedyn's ALIF and CubaLIF against Norse's and snnTorch's."""

from __future__ import annotations

from typing import Any

from neuron_contenders import Builder, Contender, Forward

#: Norse integrates with dt; these settings give each model the per-step decays of spikedyn's (tau = 2, tau_s = 2, tau_a = 4).
NORSE_DT = 1e-3


def spikedyn_extended_builder(kind: str, backend: str) -> Builder:
    """spikedyn's ALIF (tau_a = 4, strength 0.5) or CubaLIF (tau_s = 2), tau = 2 per layer, learned, on ``backend``."""

    def build(neurons: int) -> tuple[Any, Forward]:
        from spikedyn.neurons import ALIF, CubaLIF

        module = (ALIF if kind == "ALIF" else CubaLIF)(2.0, shape=(neurons,), backend=backend)
        return module, module

    return build


def norse_current_lif_build(neurons: int) -> tuple[Any, Forward]:
    """Norse 1.1's LIF with a real synaptic current (tau_syn = tau_mem = 2 steps), both inverse constants learned."""
    import torch
    from norse.torch import LIF, LIFParameters

    tau_syn_inv = torch.nn.Parameter(torch.tensor(0.5 / NORSE_DT))
    tau_mem_inv = torch.nn.Parameter(torch.tensor(0.5 / NORSE_DT))
    lif = LIF(p=LIFParameters(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv), dt=NORSE_DT)
    lif.tau_syn_inv, lif.tau_mem_inv = tau_syn_inv, tau_mem_inv  # registered, so the parameter list sees them

    def forward(x: Any) -> Any:
        return lif(x)[0]

    return lif, forward


def norse_lsnn_build(neurons: int) -> tuple[Any, Forward]:
    """Norse 1.1's LSNN (adaptive threshold), tau_mem = 2 and tau_adapt = 4 steps, strength 0.5, tau_mem_inv learned."""
    import torch
    from norse.torch import LSNN, LSNNParameters

    tau_mem_inv = torch.nn.Parameter(torch.tensor(0.5 / NORSE_DT))
    parameters = LSNNParameters(tau_syn_inv=torch.tensor(1.0 / NORSE_DT), tau_mem_inv=tau_mem_inv,
                                tau_adapt_inv=torch.tensor(0.25 / NORSE_DT), beta=torch.tensor(0.5))  # fmt: skip
    lsnn = LSNN(p=parameters, dt=NORSE_DT)
    lsnn.tau_mem_inv = tau_mem_inv

    def forward(x: Any) -> Any:
        return lsnn(x)[0]

    return lsnn, forward


def snntorch_synaptic_build(neurons: int) -> tuple[Any, Forward]:
    """snnTorch 1.0's Synaptic (alpha = beta = 0.5, both learned), looped over T by hand as its tutorials do."""
    import snntorch
    import torch

    synaptic = snntorch.Synaptic(alpha=0.5, beta=0.5, learn_alpha=True, learn_beta=True)

    def forward(x: Any) -> Any:
        syn, mem = synaptic.reset_mem()
        spikes = []
        for x_t in x:
            spk, syn, mem = synaptic(x_t, syn, mem)
            spikes.append(spk)
        return torch.stack(spikes)

    return synaptic, forward


def extended_contenders() -> list[Contender]:
    """The rows of the learned dynamics beyond tau, in table order."""
    return [
        Contender("spikedyn ALIF", "fused", spikedyn_extended_builder("ALIF", "fused"), "spikedyn"),
        Contender("spikedyn CubaLIF", "fused", spikedyn_extended_builder("CubaLIF", "fused"), "spikedyn"),
        Contender("Norse LIF current-based", "eager", norse_current_lif_build, "norse", "1.1"),
        Contender("Norse LSNN", "eager", norse_lsnn_build, "norse", "1.1"),
        Contender("snnTorch Synaptic", "eager", snntorch_synaptic_build, "snntorch", "1.0"),
    ]

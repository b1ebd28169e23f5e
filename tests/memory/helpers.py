"""Shared by the compaction tests: the same training steps with and without compaction, and a spy on what gets packed."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from spikedyn.memory import compact_activations
from spikedyn.memory.packing import PackedView
from spikedyn.memory.session import CompactSession


def train_steps(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, loss_fn: Callable, options: dict | None, steps: int = 1) -> dict[str, torch.Tensor]:
    """Losses, gradients (of the parameters and of x), parameters and buffers after ``steps`` SGD steps; dropout from fixed seeds."""
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    out: dict[str, torch.Tensor] = {}
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        inputs = x.detach().clone().requires_grad_(True)
        torch.manual_seed(100 + step)
        if options is None:
            loss = loss_fn(model(inputs), labels)
        else:
            with compact_activations(model, **options):
                loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        out[f"loss/{step}"] = loss.detach()
        out[f"grad_x/{step}"] = inputs.grad
        out.update({f"grad/{step}/{name}": p.grad.clone() for name, p in model.named_parameters() if p.grad is not None})
    out.update({f"param/{name}": p.detach().clone() for name, p in model.named_parameters()})
    out.update({f"buffer/{name}": b.detach().clone() for name, b in model.named_buffers()})
    return out


def assert_identical(plain: dict[str, torch.Tensor], compact: dict[str, torch.Tensor]) -> None:
    """Every tensor equal bit for bit (NaNs in the same places), the same keys."""
    assert plain.keys() == compact.keys()
    differing = [k for k in plain if not torch.equal(plain[k], compact[k]) and not torch.allclose(plain[k], compact[k], rtol=0, atol=0, equal_nan=True)]
    assert not differing, f"differ: {differing[:8]}"


class PackSpy:
    """Records, for every tensor packed by a session, the values it held and the handle that replaced it."""

    def __init__(self, monkeypatch) -> None:
        self.packed: list[tuple[torch.Tensor, PackedView]] = []
        original = CompactSession.pack_marked

        def spy(session: CompactSession, t: torch.Tensor) -> object:
            handle = original(session, t)
            if isinstance(handle, PackedView):
                self.packed.append((t.detach().clone(), handle))
            return handle

        monkeypatch.setattr(CompactSession, "pack_marked", spy)

    def check_levels(self) -> None:
        """Every packed tensor held k * scale with k an integer in [0, count], and restores to itself bit for bit."""
        for values, handle in self.packed:
            storage = handle.storage
            k = values / storage.scale
            assert torch.equal(k, k.round()) and k.min() >= 0, "a packed tensor held values off its levels"
            assert k.max() <= (1 if storage.bits else 255)
            assert torch.equal(handle.restore(), values)

    def packed_bytes(self) -> int:
        """Bytes held by the distinct packed storages."""
        return sum(s.nbytes for s in {id(h.storage): h.storage for _, h in self.packed}.values())


def bits_size(numel: int) -> int:
    """Bytes of ``numel`` bits."""
    return math.ceil(numel / 8)

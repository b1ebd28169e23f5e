"""compact_activations in a user's own loop: what it keeps, in how many bytes, and that it leaves the model as it found it."""

from __future__ import annotations

import pytest
import torch

from spikedyn.losses import get_loss
from spikedyn.memory import compact_activations
from spikedyn.models import build_model
from spikedyn.memory.frames import NarrowedIndices
from spikedyn.memory.packing import PackedView
from spikedyn.memory.recompute import PendingPotential, restore_saved
from spikedyn.memory.session import CompactSession
from tests.memory.helpers import PackSpy, bits_size

T, B, SIZE = 2, 2, 12


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("plifnet_mnist", input_size=SIZE)


def _frames() -> torch.Tensor:
    return torch.randint(0, 3, (T, B, 1, SIZE, SIZE), generator=torch.Generator().manual_seed(0)).float()


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _held(handle: object) -> tuple[object, int] | None:
    """(identity, bytes) of what a saved-tensor handle keeps, None when it keeps nothing."""
    if isinstance(handle, torch.Tensor):
        return handle.untyped_storage().data_ptr(), handle.untyped_storage().nbytes()
    if isinstance(handle, PackedView):
        return id(handle.storage), handle.storage.nbytes
    if isinstance(handle, NarrowedIndices):
        return id(handle), handle.data.nbytes
    assert isinstance(handle, PendingPotential)
    return None if handle.tensor is None else _held(handle.tensor)


def _saved_bytes(model: torch.nn.Module, x: torch.Tensor, compact: bool) -> int:
    """Bytes autograd holds for backward after forward+loss (activations: parameters, buffers and x left out)."""
    fixed = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers(), x)}
    session = CompactSession()
    if compact:
        session.install(model)
    handles: list[object] = []

    def pack(t: torch.Tensor) -> object:
        handle = session.pack(t) if compact else t
        if t.untyped_storage().data_ptr() not in fixed:
            handles.append(handle)
        return handle

    with torch.autograd.graph.saved_tensors_hooks(pack, restore_saved):
        loss = get_loss("mse_rate")(model(x), torch.arange(B) % 10)
    session.close()
    held = dict(h for h in map(_held, handles) if h is not None)
    loss.backward()
    return sum(held.values())


def test_a_plain_training_loop_learns_exactly_the_same():
    """Three Adam steps with the block around the forward pass end with bit-identical weights."""
    finals = []
    for compact in (False, True):
        model, x, labels = _model(), _frames(), torch.arange(B) % 10
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        loss_fn = get_loss("mse_rate")
        for step in range(3):
            optimizer.zero_grad()
            torch.manual_seed(step)
            if compact:
                with compact_activations(model):
                    loss = loss_fn(model(x), labels)
            else:
                loss = loss_fn(model(x), labels)
            loss.backward()  # after the block: the saved tensors carry their own unpacking
            optimizer.step()
        finals.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(finals[0], finals[1])


def test_packed_bytes_are_an_eighth_of_a_byte_per_spike(monkeypatch):
    """Spikes take ceil(n/8) bytes (1/32 of float32), max-pool indices int16 (1/4 of int64), H none at all."""
    spy = PackSpy(monkeypatch)
    model = _model()
    with compact_activations(model) as stats:
        loss = model(_frames()).sum()
    loss.backward()
    storages = {id(h.storage): h.storage for _, h in spy.packed}.values()
    assert stats.packed_storages == len(storages) > 0
    assert stats.packed_to_bytes == sum(bits_size(s.numel) for s in storages) == spy.packed_bytes()
    assert stats.packed_from_bytes == sum(4 * s.numel for s in storages)
    assert stats.narrowed_indices == 2 and stats.indices_to_bytes * 4 == stats.indices_from_bytes
    assert stats.recomputed_potentials == 2  # the two conv-BN-PLIF layers; the FC neurons keep H
    assert stats.saved_bytes == (stats.packed_from_bytes - stats.packed_to_bytes) + (stats.indices_from_bytes - stats.indices_to_bytes) + stats.recomputed_bytes


def test_what_autograd_holds_shrinks_by_what_the_stats_say():
    """Measured with saved_tensors_hooks: compact holds the plain bytes minus stats.saved_bytes."""
    model, x = _model(), _frames()
    plain = _saved_bytes(model, x, compact=False)
    with compact_activations(model) as stats:
        get_loss("mse_rate")(model(x), torch.arange(B) % 10).backward()
    compact = _saved_bytes(model, x, compact=True)
    assert compact == plain - stats.saved_bytes
    assert plain / compact > 2.5


def test_the_block_removes_its_hooks_even_after_an_error():
    """The model comes out of the block with the hooks it went in with."""
    model = _model()
    before = _hook_count(model)
    with pytest.raises(ValueError):
        with compact_activations(model):
            assert _hook_count(model) > before
            model(torch.zeros(T, B, 1, SIZE + 1, SIZE + 1))
    assert _hook_count(model) == before


def test_options_are_checked_and_compiled_models_refused():
    """A wrong spike format and a torch.compile'd model fail at once, with the reason."""
    model = _model()
    with pytest.raises(ValueError, match="spikes must be one of"):
        with compact_activations(model, spikes="nibbles"):
            pass
    with pytest.raises(ValueError, match="torch.compile"):
        with compact_activations(torch.compile(model)):
            pass


def test_inference_inside_the_block_keeps_nothing():
    """Under no_grad nothing is saved, so nothing is packed or recomputed, and outputs are unchanged."""
    model, x = _model().eval(), _frames()
    with torch.no_grad():
        expected = model(x)
        with compact_activations(model) as stats:
            got = model(x)
    assert torch.equal(got, expected)
    assert stats.packed_storages == 0 and stats.recomputed_potentials == 0


def test_small_neuron_calls_keep_their_potential(monkeypatch):
    """Below MIN_RECOMPUTE_ELEMENTS a neuron keeps H (recomputing would cost more than it saves); above, H is dropped."""
    from spikedyn.memory import session

    monkeypatch.setattr(session, "MIN_RECOMPUTE_ELEMENTS", 128 * SIZE * SIZE * T * B)  # the first conv layer's size, not the second's
    model = _model()
    with compact_activations(model) as stats:
        model(_frames()).sum().backward()
    assert stats.recomputed_potentials == 1

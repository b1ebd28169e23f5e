"""What the pack hook must know while a tracked layer runs: which of the tensors it saves are what.

Autograd saves a layer's tensors during its forward call, before the layer returns. A frame
is pushed when a tracked layer starts and popped when it ends; the innermost frame gets the
first look at each saved tensor:

- :class:`NeuronFrame`: the one tensor of the input's shape a fused neuron saves is H.
- :class:`BatchNormFrame`: the tensor on the input's storage is the BN's saved input.
- :class:`MaxPoolFrame`: the int64 tensor is the pooling's indices.
"""

from __future__ import annotations

import torch

from spikedyn.memory.marks import storage_key
from spikedyn.memory.recompute import PendingPotential, PotentialRecipe


class NarrowedIndices:
    """Max-pool indices held in a narrower integer dtype; they come back as int64."""

    __slots__ = ("data",)

    def __init__(self, indices: torch.Tensor, dtype: torch.dtype) -> None:
        self.data = indices.detach().to(dtype)

    def restore(self) -> torch.Tensor:
        """The indices as int64, same shape (the saved indices were contiguous)."""
        return self.data.to(torch.int64)


class NeuronFrame:
    """A neuron call: its input and, when H can be recomputed, the recipe and the H candidates seen."""

    def __init__(self, x: torch.Tensor, recipe: PotentialRecipe | None) -> None:
        self.x_key, self.x_shape, self.x_dtype = storage_key(x), x.shape, x.dtype
        self.recipe = recipe
        self.candidates: list[PendingPotential] = []

    def take(self, t: torch.Tensor, pack_marked) -> object | None:
        """A pending H for the tensor that can only be H, else None."""
        if self.recipe is None or t.dtype != self.x_dtype or t.shape != self.x_shape or storage_key(t) == self.x_key:
            return None
        pending = PendingPotential(t)
        self.candidates.append(pending)
        return pending

    def commit(self) -> PendingPotential | None:
        """Hand the recipe to H if exactly one candidate was saved (else keep everything): the committed one."""
        if self.recipe is None or len(self.candidates) != 1:
            return None
        self.candidates[0].commit(self.recipe)
        return self.candidates[0]


class BatchNormFrame:
    """A BN call: which storage its input lives on, the handle its saved input got, and its saved batch statistics."""

    def __init__(self, bn: torch.nn.Module, x: torch.Tensor) -> None:
        self.x_key = storage_key(x)
        self.channels = x.shape[1] if x.dim() > 1 else None
        self.own = {storage_key(t) for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var) if t is not None}
        self.saved_input: object | None = None
        self.stats: list[torch.Tensor] = []

    def take(self, t: torch.Tensor, pack_marked) -> object | None:
        """The handle of the BN's saved input (packed if marked), remembered for recomputation; the statistics are noted."""
        if not t.is_floating_point():
            return None
        key = storage_key(t)
        if self.saved_input is None and key == self.x_key:
            self.saved_input = pack_marked(t)
            return self.saved_input
        if self.saved_input is not None and len(self.stats) < 2 and t.shape == (self.channels,) and key not in self.own:
            self.stats.append(t.detach())  # save_mean, then save_invstd: the op's outputs, saved after its inputs
        return None


class MaxPoolFrame:
    """A max-pool call and the dtype that holds its indices."""

    def __init__(self, dtype: torch.dtype | None) -> None:
        self.dtype = dtype

    def take(self, t: torch.Tensor, pack_marked) -> object | None:
        """Narrowed indices for the int64 tensor the pooling saves."""
        if self.dtype is None or t.dtype != torch.int64 or not t.is_contiguous():
            return None
        return NarrowedIndices(t, self.dtype)

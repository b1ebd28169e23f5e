"""The extended numba kernel splits work by size on every launcher and thread count: same results as the reference.

The parallel threshold is lowered so that even these sizes split into several work items (blocks
that cross batch rows) and workers, as test_kernel_layouts does for the classic kernel.
"""

from __future__ import annotations

import math
import zlib

import pytest
import torch

from spikedyn.neurons import ALIF, CubaLIF, use_backend
from spikedyn.neurons.backends import numba_extended, numba_parallel
from tests.neurons.helpers import firing_input, forced_kernel, run_with_grads

CASES = [
    ("ALIF-2d-layer", (6, 300), lambda: ALIF(2.5, threshold="layer")),
    ("ALIF-rows-cross-blocks", (4, 3, 1000), lambda: ALIF(2.5, shape=(1000,), tau_shape="neuron", adaptation_shape="neuron", imp="neuron")),
    ("CubaLIF-few-features-many-rows", (5, 300, 3), lambda: CubaLIF(2.5, shape=(3,), synaptic_shape="neuron", imp="neuron", threshold="neuron")),
    ("CubaLIF-4d-channel", (4, 3, 5, 7), lambda: CubaLIF(2.5, shape=(5, 7), tau_shape="channel", synaptic_shape="channel", v_reset=None)),
]  # fmt: skip


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threads(request):
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


@pytest.mark.parametrize("launcher", numba_parallel.available_launchers())
@pytest.mark.parametrize(("case_id", "shape", "factory"), CASES, ids=[case[0] for case in CASES])
def test_every_launcher_and_split_matches_the_reference(case_id, shape, factory, launcher, threads, monkeypatch):
    monkeypatch.setattr(numba_extended, "MIN_ELEMENTS_PER_WORKER", 1)
    block, items, wanted = numba_extended.layout(math.prod(shape[1:]), shape[0])
    assert threads == 1 or (items > 1 and wanted > 1), "the case should split into several work items and workers"
    torch.manual_seed(zlib.crc32(case_id.encode()))
    neuron = factory()
    x = firing_input(*shape)
    weights = torch.randn(shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v=True)
    with use_backend("fused"), forced_kernel("numba"), numba_parallel.use_launcher(launcher):
        got = run_with_grads(neuron, x, weights, return_v=True)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-5, msg=lambda m, name=name: f"d/d{name}: {m}")

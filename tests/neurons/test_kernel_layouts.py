"""The numba kernel lays out work by size, not rank, and runs it on every launcher: same results as the reference.

Shapes from the benchmark's sweep at small sizes (2-D with per-layer tau, [T, B, 1], few features
and many rows, many features and few rows, per-channel and per-neuron tau, IMP, T from 1 to 64),
each on every launcher with 1, 2 and 3 torch threads and the parallel thresholds lowered so that
even these sizes split into several work items (blocks that cross batch rows) and workers.
"""

from __future__ import annotations

import os
import sys
import zlib

import pytest
import torch

from spikedyn.neurons import IF, LIF, PLIF, use_backend
from spikedyn.neurons.backends import numba_kernel, numba_parallel
from tests.neurons.helpers import firing_input, forced_kernel, run_with_grads

# (id, x shape [T, B, *features], neuron factory)
CASES = [
    ("2d-layer", (6, 37), lambda: PLIF(2.5)),
    ("2d-layer-T1", (1, 300), lambda: PLIF(2.5)),
    ("T,B,1-layer", (5, 41, 1), lambda: PLIF(2.5, shape=(1,))),
    ("T,B,1-neuron+imp", (5, 41, 1), lambda: PLIF(2.5, shape=(1,), tau_shape="neuron", imp="neuron")),
    ("few-features-many-rows", (4, 300, 3), lambda: PLIF(2.5, shape=(3,), tau_shape="neuron", tau_init="lognormal", tau_std=1.0, imp="neuron")),
    ("many-features-few-rows", (3, 2, 1500), lambda: PLIF(2.5, shape=(1500,), tau_shape="neuron", tau_init="lognormal", tau_std=1.0)),
    ("rows-cross-blocks", (4, 3, 1000), lambda: PLIF(2.5, shape=(1000,), tau_shape="neuron", tau_init="lognormal", tau_std=1.0, imp="neuron")),
    ("4d-channel", (4, 3, 5, 7), lambda: PLIF(2.5, shape=(5, 7), tau_shape="channel", tau_init="lognormal", tau_std=1.0)),
    ("5d-channel+imp", (3, 2, 4, 3, 5), lambda: PLIF(2.5, shape=(4, 3, 5), tau_shape="channel", tau_init="lognormal", tau_std=1.0, imp="channel")),
    ("T64-small", (64, 3, 5), lambda: PLIF(2.5, shape=(5,), tau_shape="neuron", tau_init="lognormal", tau_std=1.0, imp="neuron")),
    ("lif-soft-2d", (7, 90), lambda: LIF(2.5, v_reset=None)),
    ("if-imp", (5, 30, 4), lambda: IF(shape=(4,), imp="neuron")),
]
LAUNCHERS = numba_parallel.available_launchers()


@pytest.fixture
def split_small_inputs(monkeypatch):
    """Make even a few hundred element-steps worth a worker, so small tests run the parallel paths."""
    monkeypatch.setattr(numba_kernel, "MIN_ELEMENTS_PER_WORKER", 1)


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threads(request):
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


def _compare(case_id, shape, factory, return_v=False, dtype=torch.float32):
    torch.manual_seed(zlib.crc32(case_id.encode()))
    neuron = factory().to(dtype)
    x = firing_input(*shape, dtype=dtype)
    weights = torch.randn(shape, dtype=dtype)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v)
    with use_backend("fused"), forced_kernel("numba"):
        got = run_with_grads(neuron, x, weights, return_v)
    assert expected[0].sum() > 0, "the input should make neurons fire"
    assert torch.equal(got[0], expected[0]), "spikes differ"
    if return_v:
        assert torch.equal(got[1], expected[1]), "membrane potentials H differ"
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-10}
    assert got[2].keys() == expected[2].keys()
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, **tol, msg=lambda m: f"gradient of {name}: {m}")


@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("case_id,shape,factory", CASES, ids=[c[0] for c in CASES])
def test_every_layout_and_launcher_matches_reference(case_id, shape, factory, launcher, threads, split_small_inputs):
    with numba_parallel.use_launcher(launcher):
        _compare(case_id, shape, factory)


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_returned_potentials_and_float64_match_reference(launcher, split_small_inputs):
    case_id, shape, factory = CASES[4]
    with numba_parallel.use_launcher(launcher):
        _compare(case_id, shape, factory, return_v=True)
        _compare(case_id, shape, factory, dtype=torch.float64)


def test_a_2d_input_runs_in_blocks_not_one_item_per_element():
    """[16, 262144] (one neuron per layer) takes the same blocks as [16, 64, 4096]: by size, not by rank."""
    block, items, _ = numba_kernel.layout(262144, 16)
    assert items == -(-262144 // block) and block >= numba_kernel.MIN_BLOCK
    assert numba_kernel.layout(262144, 16) == numba_kernel.layout(64 * 4096, 16)


def test_the_layout_covers_every_element_and_gives_each_worker_several_items():
    for m in (1, 63, 64, 1000, 2048, 2049, 262144, 3 * 2048 + 5):
        block, items, wanted = numba_kernel.layout(m, 64)
        assert (items - 1) * block < m <= items * block
        assert 1 <= wanted <= max(1, min(torch.get_num_threads(), items))


@pytest.mark.skipif("openmp" not in LAUNCHERS, reason="torch is not built on a GNU-compatible OpenMP here")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads through /proc")
def test_the_openmp_launcher_starts_no_thread_of_its_own(split_small_inputs):
    """Its workers are torch's intra-op threads: after torch's pool is up, running the kernel adds none."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.ones(1 << 22).mul_(2)  # starts torch's OpenMP pool
        neuron = PLIF(2.5, shape=(64,), tau_shape="neuron", imp="neuron")
        x = firing_input(8, 64, 64).requires_grad_()
        before = len(os.listdir("/proc/self/task"))
        with numba_parallel.use_launcher("openmp"), use_backend("fused"):
            neuron(x).sum().backward()
        assert len(os.listdir("/proc/self/task")) == before
    finally:
        torch.set_num_threads(previous)


def test_an_unknown_launcher_is_refused_by_name():
    with pytest.raises(ValueError, match="launcher 'gpu'"):
        numba_parallel.set_launcher("gpu")

"""The Triton kernels as a GPU would get them: compiled ahead of time for sm_80 and sm_90, and the launch arithmetic.

No GPU needed: Triton's compiler and the ptxas in its wheel build every option combination for
sm_90 (a subset for sm_80), at a batch of 1, feature sizes that are not multiples of the block
and index ranges past 2^31; each kernel's index arithmetic must be 64-bit and its registers
must fit the programs per SM that the launcher assumes. A batch of 1 also runs under the interpreter.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("triton")

from spikedyn.neurons import use_backend  # noqa: E402
from spikedyn.neurons.backends import triton_launch as launch  # noqa: E402
from tests.neurons import triton_aot as aot  # noqa: E402
from tests.neurons.helpers import TRITON_ON_CPU, firing_input, make_neuron, run_with_grads  # noqa: E402

ARCHS = (90, 80)
DTYPES = tuple(aot.DTYPES)


def _distinct(leaky: bool, decay_input: bool) -> bool:
    return leaky or not decay_input  # without a leak the launcher turns DECAY_INPUT off


# Every combination of the flags each kernel branches on. The storage dtype (and, in the backward, the surrogate and a
# broadcast spike gradient, the kernel's GS_ELEMENT_STRIDE=0) rotate along the list: all 24 of their combinations.
FORWARD_CASES = [
    aot.Case(leaky=leaky, decay_input=decay, hard_reset=hard, keep_h=keep, dtype=DTYPES[i % 3])
    for i, (leaky, decay, hard, keep) in enumerate(c for c in itertools.product(*[(True, False)] * 4) if _distinct(*c[:2]))
]  # fmt: skip
BACKWARD_CASES = [
    aot.Case(leaky=leaky, decay_input=decay, hard_reset=hard, detach_reset=detach, need_k=need_k, need_v0=need_v0,
             grad_h=grad_h, surrogate=i % 4, dtype=DTYPES[i // 4 % 3], gs_broadcast=bool(i // 12 % 2))
    for i, (leaky, decay, hard, detach, need_k, need_v0, grad_h) in enumerate(
        c for c in itertools.product(*[(True, False)] * 7) if _distinct(c[0], c[1]) and (c[0] or not c[4])
    )
]  # fmt: skip
VARIANTS = (
    [("forward", 90, c) for c in FORWARD_CASES]
    + [("backward", 90, c) for c in BACKWARD_CASES]
    + [("forward", 80, c) for c in FORWARD_CASES]
    + [("backward", 80, c) for c in BACKWARD_CASES[::5]]
)


def _kernel(kind: str, arch: int, case: aot.Case, rows: int = 1):
    return aot.forward_kernel(case, arch) if kind == "forward" else aot.backward_kernel(case, arch, rows)


def _assert_fits(kernel, arch: int) -> int:
    """The launcher's programs per SM for a compiled kernel: at least one, within its registers, warps and blocks."""
    res, limits = launch.kernel_resources(kernel), aot.limits(arch)
    per_sm = launch.programs_per_sm(res, limits)
    assert res.spills == 0, f"{kernel.name} spills {res.spills} registers on sm_{arch}"
    assert per_sm >= 1
    regs_per_warp = math.ceil(res.regs_per_thread * 32 / 256) * 256
    assert per_sm * res.warps * regs_per_warp <= limits.regs_per_sm
    assert per_sm * res.warps <= limits.max_warps_per_sm and per_sm <= limits.max_blocks_per_sm
    assert per_sm * (res.shared_bytes + limits.reserved_shared_per_block) <= limits.shared_per_sm
    return per_sm


def _variant_id(variant) -> str:
    kind, arch, case = variant
    names = ("leaky", "decay_input", "hard_reset") + (
        ("keep_h",) if kind == "forward" else ("detach_reset", "grad_h", "need_k", "need_v0", "gs_broadcast")
    )
    flags = "+".join(name for name in names if getattr(case, name)) or "none"
    return f"{kind}-sm{arch}-{case.dtype}-{flags}" + (f"-surrogate{case.surrogate}" if kind == "backward" else "")


@pytest.mark.gpu_compile
@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_id)
def test_every_option_combination_compiles_with_64_bit_indices_and_fits(variant):
    kind, arch, case = variant
    kernel = _kernel(kind, arch, case)
    assert aot.narrow_index_products(kernel.ttir) == []
    _assert_fits(kernel, arch)


@pytest.mark.gpu_compile
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("steps, batch, n", [(4, 1, 512), (1, 1, 1), (2, 1, 3)])
def test_batch_of_one_compiles_where_triton_makes_ints_constants(arch, steps, batch, n):
    """The launcher passes 1 for the batch (and, at N=1, for the feature size and the step stride, which stay constants)."""
    case = aot.Case(steps=steps, batch=batch, n=n, grad_h=True)
    for kernel in (aot.forward_kernel(case, arch), aot.backward_kernel(case, arch), aot.sum_kernel(2, n, arch)):
        if n == 1:
            assert kernel.signature["n"] == "constexpr", "this case no longer reaches a constant 1"
        assert aot.narrow_index_products(kernel.ttir) == []
        _assert_fits(kernel, arch)


@pytest.mark.gpu_compile
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("n", [3, 1000, 65537])
def test_feature_sizes_off_the_block_compile_and_fit(arch, n):
    """Sizes that are not multiples of the block (nor of 16, so no divisibility hint): masked tails, other registers."""
    case = aot.Case(n=n, batch=3, grad_h=True)
    for kind in ("forward", "backward"):
        kernel = _kernel(kind, arch, case)
        assert aot.narrow_index_products(kernel.ttir) == []
        _assert_fits(kernel, arch)
    assert aot.narrow_index_products(aot.sum_kernel(5, n, arch).ttir) == []


@pytest.mark.gpu_compile
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("steps, batch, n", [(32, 64, 2**20), (4, 4096, 2**20)])
def test_index_ranges_past_2_to_the_31_are_64_bit(arch, steps, batch, n):
    """T*B*N = 2^31 (every int argument 32-bit), and B*N = 2^32 (the step stride itself 64-bit)."""
    case = aot.Case(steps=steps, batch=batch, n=n, grad_h=True)
    kernels = (aot.forward_kernel(case, arch), aot.backward_kernel(case, arch, rows=8), aot.sum_kernel(batch, n, arch))
    assert kernels[1].signature["gs_step_stride"] == ("i64" if batch * n >= 2**31 else "i32")
    for kernel in kernels:
        assert aot.narrow_index_products(kernel.ttir) == [], kernel.name


def test_narrow_index_check_finds_a_32_bit_element_index():
    """The IR check flags a product of two run-time ints feeding an address, and nothing by a constant block size."""
    ttir = """
    %c512 = arith.constant 512 : i32 loc(#loc1)
    %0 = tt.get_program_id x : i32 loc(#loc2)
    %cols = arith.muli %0, %c512 : i32 loc(#loc3)
    %at = arith.muli %t, %stride : i32 loc(#loc4)
    %1 = arith.addi %at, %cols : i32 loc(#loc5)
    %2 = tt.addptr %ptr, %1 : !tt.ptr<f32>, i32 loc(#loc6)
    %ok = arith.muli %t, %stride : i64 loc(#loc7)
    %3 = tt.addptr %ptr, %ok : !tt.ptr<f32>, i64 loc(#loc8)
    """
    assert aot.narrow_index_products(ttir) == ["%at = arith.muli %t, %stride : i32"]


@pytest.mark.parametrize(
    "regs, warps, shared, arch, expected",
    [
        (55, 4, 0, 90, 9),  # 56 x 32 registers per warp: 9 warps in each 16K sub-partition
        (28, 4, 0, 90, 16),  # the warp limit: 64 warps / 4
        (255, 4, 0, 90, 2),  # 8192 registers per warp: 2 per sub-partition
        (16, 1, 0, 80, 32),  # the block limit
        (32, 4, 100 * 1024, 90, 2),  # shared memory: (100 KiB + 1 KiB reserved) into 228 KiB
        (32, 4, 100 * 1024, 80, 1),  # ... into 164 KiB
        (256, 4, 0, 90, 0),  # more registers than a thread may have: does not launch
    ],
)
def test_programs_per_sm_follows_the_occupancy_calculator(regs, warps, shared, arch, expected):
    assert launch.programs_per_sm(launch.KernelResources(regs, 0, warps, shared), aot.limits(arch)) == expected


def test_device_limits_come_from_torch_properties_with_the_table_as_fallback():
    h200 = SimpleNamespace(major=9, minor=0, multi_processor_count=132, max_threads_per_multi_processor=2048,
                           regs_per_multiprocessor=65536, shared_memory_per_multiprocessor=233472)  # fmt: skip
    assert launch.limits_from_properties(h200) == launch.ARCH_LIMITS[90]
    ga102 = SimpleNamespace(major=8, minor=6, multi_processor_count=84, max_threads_per_multi_processor=1536)
    limits = launch.limits_from_properties(ga102)
    assert (limits.sms, limits.max_warps_per_sm, limits.max_blocks_per_sm) == (84, 48, 16)
    assert (limits.regs_per_sm, limits.shared_per_sm) == (65536, launch.ARCH_LIMITS[80].shared_per_sm)


def test_backward_rows_fill_whole_waves():
    # 64 rows x 128 column blocks into 1024 slots: 8 rows a program is one exact wave with 8 partial sums.
    assert launch.backward_rows(64, 128, 1024, row_bytes=100, chunk_bytes=10) == 8
    # PLIF at 4M neurons on an H200 (9 programs x 132 SMs): one row a program, 6.9 waves, costs 7 row-waves where
    # the former fixed 16 programs per SM (3 rows, 2816 programs, 2.4 waves) cost 9.
    rows = launch.backward_rows(64, 128, 1188, row_bytes=3 * 16 * 512 * 4, chunk_bytes=8 * 65536)
    assert rows == 1 and math.ceil(128 * 64 / 1188) * rows == 7
    assert launch.backward_rows(64, 128, 1188, row_bytes=1, chunk_bytes=10**9) == 64  # partial sums dominate
    assert launch.backward_rows(5, 2, 1188, row_bytes=1, chunk_bytes=1) == 1  # fewer rows than slots


@pytest.mark.gpu_compile
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_plif_at_4m_neurons_runs_in_nearly_whole_waves(arch, dtype):
    """The benchmark's PLIF(layer) case, T=16, B=64, N=2^16: the backward's grid keeps over 85 % of its slot-time busy.

    The launcher used to assume 16 programs per SM whatever the kernel's registers: on an H200 in float32 that was
    3 rows a program, 2816 programs for 1188 slots, 2.4 waves of which the last was 40 % full.
    """
    case = aot.Case(steps=16, batch=64, n=2**16, dtype=dtype, need_k=True, need_v0=False)
    sms = aot.limits(arch).sms
    slots = _assert_fits(aot.backward_kernel(case, arch), arch) * sms

    def busy(rows: int) -> float:
        return 64 * 128 / (math.ceil(128 * math.ceil(64 / rows) / slots) * rows * slots)

    element = torch.empty(0, dtype=aot.DTYPES[dtype]).element_size()
    rows = launch.backward_rows(64, 128, slots, 3 * 16 * 512 * element, 8 * 2**16)
    assert busy(rows) > 0.85 and busy(rows) >= busy(max(1, 64 * 128 // (16 * sms)))
    assert aot.backward_kernel(case, arch, rows).n_regs == aot.backward_kernel(case, arch).n_regs  # one variant


@pytest.mark.gpu_compile
def test_backward_on_cuda_sizes_its_grid_from_the_kernel_it_compiles(monkeypatch):
    """The launch glue on a CUDA device: warm up the launch's own kernel once, read its registers, cache the slots."""
    module = aot.triton_kernel
    case = aot.Case(steps=16, batch=64, n=2**16, need_v0=False)
    compiled = aot.backward_kernel(case, 90)
    _, args, options = aot.backward_args(case)
    arg_names = module._backward_kernel.arg_names
    warmups = []

    def warmup(*got_args, grid, **got_options):
        warmups.append((got_args, grid, got_options))
        return SimpleNamespace(_init_handles=lambda: None, n_regs=compiled.n_regs, n_spills=0, metadata=compiled.metadata)

    monkeypatch.setattr(module, "_backward_kernel", SimpleNamespace(arg_names=arg_names, warmup=warmup))
    monkeypatch.setattr(module, "_device_limits", lambda index: aot.limits(90))
    monkeypatch.setattr(module, "_SLOTS", {})
    device = torch.device("cuda", 0)
    first = module._rows_per_program(64, 128, device, args, options, 3 * 16 * 512 * 4, 8 * 2**16)
    again = module._rows_per_program(64, 128, device, args, options, 3 * 16 * 512 * 4, 8 * 2**16)
    slots = launch.programs_per_sm(launch.kernel_resources(compiled), aot.limits(90)) * 132
    assert first == again == launch.backward_rows(64, 128, slots, 3 * 16 * 512 * 4, 8 * 2**16)
    assert len(warmups) == 1 and warmups[0][1] == (1,) and warmups[0][2] == options and warmups[0][0] == args


on_the_interpreter = pytest.mark.skipif(not TRITON_ON_CPU, reason="needs triton with TRITON_INTERPRET=1 (tests/conftest.py)")


@pytest.mark.triton
@on_the_interpreter
def test_samples_past_32_bit_column_indices_are_refused():
    x = torch.zeros(()).expand(1, 1, aot.triton_kernel.MAX_FEATURES + 1)  # no memory behind it
    with pytest.raises(ValueError, match="neurons per sample"):
        aot.triton_kernel.check_input(x, aot.dynamics(aot.Case()))


@pytest.mark.triton
@on_the_interpreter
@pytest.mark.parametrize("shape", [(1,), (37,)])
def test_batch_of_one_under_the_interpreter_matches_the_reference(shape):
    torch.manual_seed(0)
    neuron = make_neuron("PLIF-neuron", shape, imp="neuron")
    x = firing_input(6, 1, *shape)
    weights = torch.randn(x.shape)
    with use_backend("reference"):
        expected = run_with_grads(neuron, x, weights, return_v=True)
    with use_backend("triton"):
        got = run_with_grads(neuron, x, weights, return_v=True)
    assert torch.equal(got[0], expected[0])
    torch.testing.assert_close(got[1], expected[1])
    for name, grad in expected[2].items():
        torch.testing.assert_close(got[2][name], grad, rtol=1e-5, atol=1e-6)

"""Launch arithmetic of the Triton neuron kernels: block sizes, programs per SM, backward grids in whole waves.

Pure functions of numbers (a compiled kernel's resources, a device's limits), so they are tested
without a GPU. Occupancy follows CUDA's occupancy calculator (``cuda_occupancy.h``): registers
are allocated per warp in units of 256 from each of the SM's 4 sub-partitions, every block
reserves 1 KiB of shared memory (sm_80 and later), and warps, blocks and shared memory per SM
are capped by the device.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

MAX_BLOCK = 512
WARP_SIZE = 32
SUB_PARTITIONS = 4
SHARED_ALLOC_UNIT = 128


@dataclass(frozen=True)
class DeviceLimits:
    """What one SM holds at once, and how many SMs there are."""

    sms: int
    regs_per_sm: int = 65536
    max_warps_per_sm: int = 64
    max_blocks_per_sm: int = 32
    shared_per_sm: int = 233472
    reserved_shared_per_block: int = 1024
    reg_alloc_unit: int = 256
    max_regs_per_thread: int = 255


# A100 (sm_80) and H100/H200 (sm_90); other devices take their numbers from torch's properties.
ARCH_LIMITS = {80: DeviceLimits(sms=108, shared_per_sm=167936), 90: DeviceLimits(sms=132, shared_per_sm=233472)}
MAX_BLOCKS_PER_SM = {75: 16, 80: 32, 86: 16, 87: 16, 89: 24, 90: 32, 100: 32, 120: 24}


@dataclass(frozen=True)
class KernelResources:
    """A compiled kernel's per-program needs: registers per thread, spilled registers, warps, shared bytes."""

    regs_per_thread: int
    spills: int
    warps: int
    shared_bytes: int


def kernel_resources(compiled: Any) -> KernelResources:
    """The resources of a Triton ``CompiledKernel`` whose handles are loaded (``n_regs`` is set on load)."""
    metadata = compiled.metadata
    return KernelResources(int(compiled.n_regs), int(compiled.n_spills), int(metadata.num_warps), int(metadata.shared))


def limits_from_properties(props: Any) -> DeviceLimits:
    """A device's limits from ``torch.cuda.get_device_properties``, the sm_80/sm_90 table filling what it lacks."""
    arch = 10 * props.major + props.minor
    base = ARCH_LIMITS.get(arch, ARCH_LIMITS[80])
    threads = getattr(props, "max_threads_per_multi_processor", None)
    return replace(
        base,
        sms=props.multi_processor_count,
        regs_per_sm=getattr(props, "regs_per_multiprocessor", None) or base.regs_per_sm,
        max_warps_per_sm=threads // WARP_SIZE if threads else base.max_warps_per_sm,
        max_blocks_per_sm=MAX_BLOCKS_PER_SM.get(arch, 16),
        shared_per_sm=getattr(props, "shared_memory_per_multiprocessor", None) or base.shared_per_sm,
    )


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def programs_per_sm(res: KernelResources, limits: DeviceLimits) -> int:
    """Programs of a kernel resident on one SM at once: the tightest of the warp, register, shared and block limits."""
    if res.regs_per_thread > limits.max_regs_per_thread or res.warps > limits.max_warps_per_sm:
        return 0
    by_warps = limits.max_warps_per_sm // res.warps
    regs_per_warp = _round_up(res.regs_per_thread * WARP_SIZE, limits.reg_alloc_unit)
    if regs_per_warp:
        warps_per_partition = limits.regs_per_sm // SUB_PARTITIONS // regs_per_warp
        by_regs = warps_per_partition * SUB_PARTITIONS // res.warps
    else:
        by_regs = by_warps
    shared = _round_up(res.shared_bytes + limits.reserved_shared_per_block, SHARED_ALLOC_UNIT)
    return min(by_warps, by_regs, limits.shared_per_sm // shared, limits.max_blocks_per_sm)


@functools.lru_cache(maxsize=256)
def backward_rows(batch: int, col_blocks: int, slots: int, row_bytes: int, chunk_bytes: int) -> int:
    """Rows each backward program runs, so that the grid fills whole waves and leaves few partial sums.

    A program runs ``rows`` batch rows of one column block and writes one partial sum per needed
    gradient, which a second kernel adds up: the cost counted is every wave as a full one (the
    ragged tail of a last wave runs as long as a full one), ``row_bytes`` per row and program
    slot, plus ``chunk_bytes`` per chunk of rows for the partial sums. Ties go to more rows.
    """
    def cost(rows: int) -> tuple[int, int]:
        chunks = math.ceil(batch / rows)
        full_waves = math.ceil(col_blocks * chunks / slots)
        return full_waves * rows * slots * row_bytes + chunks * chunk_bytes, -rows

    return min(range(1, batch + 1), key=cost)


def block_size(n: int) -> int:
    """Neurons per program: the feature size rounded up to a power of two, 16 to ``MAX_BLOCK``."""
    return min(MAX_BLOCK, max(16, 1 << max(0, n - 1).bit_length()))


def num_warps(block: int) -> int:
    """Warps per program: one per 128 neurons, 1 to 4."""
    return max(1, min(4, block // 128))

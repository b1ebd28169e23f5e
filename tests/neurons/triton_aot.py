"""Compile spikedyn's Triton kernels ahead of time for a GPU that is not here, as the launcher would specialise them.

The arguments come from ``triton_kernel``'s own ``forward_launch``/``backward_launch`` on meta
tensors (shapes without memory, so index ranges past 2^31 cost nothing); the specialisation
from Triton's launcher binder (an int equal to 1 becomes a constant, divisibility by 16 an
attribute); the code from Triton's compiler and the ptxas in its wheel; the registers and
spills from the cubin through the wheel's cuobjdump, as loading it on a GPU would report them.

Compilation runs in one worker process started without TRITON_INTERPRET: where it is set when
triton is imported, triton.language's own jit functions (tl.zeros, ...) are interpreted ones,
and the first call the compiler makes to one patches triton.language for the interpreter.
Results are cached for the session.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import re
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch
import triton

from spikedyn.neurons.backends import triton_kernel, triton_launch
from spikedyn.neurons.dynamics import Dynamics
from spikedyn.surrogate import from_kernel_id

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Compiled:
    """What a test reads of a compiled kernel: its TTIR, the launcher's signature, and the resources a GPU reports."""

    name: str
    ttir: str
    signature: dict
    n_regs: int
    n_spills: int
    metadata: SimpleNamespace  # num_warps, shared: as on Triton's CompiledKernel


@dataclass(frozen=True)
class Case:
    """One launch's sizes and options: the storage dtype, T, B, N and the flags the launcher turns into constants."""

    steps: int = 4
    batch: int = 8
    n: int = 512
    dtype: str = "float32"
    leaky: bool = True
    decay_input: bool = True
    hard_reset: bool = True
    detach_reset: bool = True
    keep_h: bool = True
    surrogate: int = 0
    grad_h: bool = False
    need_k: bool = True
    need_v0: bool = True
    gs_broadcast: bool = False


def meta(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A tensor with a shape and no memory (data_ptr 0: 16-byte aligned, like a fresh CUDA allocation)."""
    return torch.empty(*shape, dtype=dtype, device="meta")


def dynamics(case: Case) -> Dynamics:
    """The :class:`Dynamics` a case's flags describe."""
    surrogate = from_kernel_id(case.surrogate, 2.0)
    return Dynamics(1.0, 0.0 if case.hard_reset else None, case.detach_reset, case.decay_input, case.leaky, surrogate)


def forward_args(case: Case) -> tuple[tuple[int], tuple, dict]:
    """The forward launch for a case: (grid, arguments, options)."""
    x = meta(case.steps, case.batch * case.n, dtype=DTYPES[case.dtype])
    potentials = x if case.keep_h else None
    return triton_kernel.forward_launch(x, meta(case.n), meta(case.n), x, potentials, case.n, dynamics(case))


def backward_args(case: Case, rows: int = 1) -> tuple[tuple[int], tuple, dict]:
    """The backward launch for a case: (grid, arguments, options)."""
    dtype, m = DTYPES[case.dtype], case.batch * case.n
    h = meta(case.steps, m, dtype=dtype)
    grad_s = meta(1, dtype=dtype).expand(case.steps, m) if case.gs_broadcast else h
    chunks = triton.cdiv(case.batch, rows)
    partials = tuple(meta(chunks, case.n) if need else h for need in (case.need_k and case.leaky, case.need_v0))
    return triton_kernel.backward_launch(grad_s, h if case.grad_h else None, h, meta(case.n), meta(case.n), h,
                                         partials, case.n, dynamics(case), case.need_k, case.need_v0, rows)  # fmt: skip


def forward_kernel(case: Case, arch: int) -> Compiled:
    """The forward kernel of a case, compiled for sm_``arch``."""
    return compile_launch("_forward_kernel", arch, *forward_args(case)[1:])


def backward_kernel(case: Case, arch: int, rows: int = 1) -> Compiled:
    """The backward kernel of a case, compiled for sm_``arch``."""
    return compile_launch("_backward_kernel", arch, *backward_args(case, rows)[1:])


def sum_kernel(chunks: int, n: int, arch: int) -> Compiled:
    """The chunk-sum kernel for [chunks, n] partial sums, compiled for sm_``arch``."""
    block = min(1024, max(16, triton.next_power_of_2(n)))
    args, options = (meta(chunks, n), meta(n), chunks, n), {"BLOCK": block, "enable_fp_fusion": False}
    return compile_launch("_sum_chunks", arch, args, options)


def limits(arch: int) -> triton_launch.DeviceLimits:
    """The table's limits for sm_``arch``."""
    return triton_launch.ARCH_LIMITS[arch]


def compile_launch(kernel_name: str, arch: int, args: tuple, options: dict) -> Compiled:
    """One launch of a kernel of ``triton_kernel``, compiled for sm_``arch`` (cached)."""
    return _compile(kernel_name, arch, tuple(_describe(a) for a in args), tuple(sorted(options.items())))


def _describe(arg: Any) -> Any:
    if isinstance(arg, torch.Tensor):
        return "tensor", tuple(arg.shape), arg.stride(), str(arg.dtype).removeprefix("torch.")
    return arg


@functools.cache
def _compile(kernel_name: str, arch: int, args: tuple, options: tuple) -> Compiled:
    return _worker().submit(compile_in_worker, kernel_name, arch, args, options).result()


@functools.cache
def _worker() -> ProcessPoolExecutor:
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    saved = os.environ.pop("TRITON_INTERPRET", None)
    try:
        executor.submit(int).result()  # the worker starts now, with this environment
    finally:
        if saved is not None:
            os.environ["TRITON_INTERPRET"] = saved
    return executor


def compile_in_worker(kernel_name: str, arch: int, described: tuple, options: tuple) -> Compiled:
    """In the worker: specialise as the launcher would, compile with Triton and ptxas, read the cubin's resources."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import ASTSource, make_backend
    from triton.runtime.jit import create_function_from_signature

    assert not triton_kernel.INTERPRETED, "the compile worker must start without TRITON_INTERPRET"
    fn = getattr(triton_kernel, kernel_name)
    args = tuple(torch.empty_strided(a[1], a[2], dtype=DTYPES[a[3]], device="meta") if isinstance(a, tuple) else a
                 for a in described)  # fmt: skip
    kwargs, target = dict(options), GPUTarget("cuda", arch, 32)
    backend = make_backend(target)
    bound, specialization, parsed = create_function_from_signature(fn.signature, fn.params, backend)(*args, **kwargs)
    parsed, signature, constexprs, attrs = fn._pack_args(backend, kwargs, bound, specialization, parsed)
    compiled = triton.compile(ASTSource(fn, signature, constexprs, attrs), target=target, options=parsed.__dict__)
    regs, spills = cubin_registers(compiled.asm["cubin"])
    metadata = SimpleNamespace(num_warps=compiled.metadata.num_warps, shared=compiled.metadata.shared)
    return Compiled(compiled.name, compiled.asm["ttir"], signature, regs, spills, metadata)


def cubin_registers(cubin: bytes) -> tuple[int, int]:
    """(registers per thread, spilled 4-byte words) of a one-kernel cubin, as the CUDA driver reports them."""
    from triton import knobs

    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        command = [knobs.nvidia.cuobjdump.path, "-res-usage", f.name]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    usage = re.search(r"REG:(\d+) STACK:\d+ SHARED:\d+ LOCAL:(\d+)", out)
    assert usage, out
    return int(usage.group(1)), int(usage.group(2)) // 4


_DEF = re.compile(r"^\s*(%[\w.]+)(?::\d+)? = ([\w.]+) (.*?)(?: loc\(.*\))?$")


def narrow_index_products(ttir: str) -> list[str]:
    """The 32-bit multiplies that feed a pointer offset, other than those by a constant (a block size).

    Walks every ``tt.addptr`` back through the values it is computed from; an ``arith.muli`` of
    two run-time values there must be 64-bit, since the product can be an element index.
    """
    defs: dict[str, tuple[str, list[str], str]] = {}
    for line in ttir.splitlines():
        match = _DEF.match(line)
        if match:
            name, op, rest = match.groups()
            operands, _, types = rest.partition(" : ")
            defs[name] = (op, re.findall(r"%[\w.]+", operands), types)
    found, seen = [], set()
    stack = [v for op, operands, _ in defs.values() if op == "tt.addptr" for v in operands]
    while stack:
        value = stack.pop()
        if value in seen or value not in defs:
            continue
        seen.add(value)
        op, operands, types = defs[value]
        if op == "arith.muli" and re.search(r"\bi32\b|xi32>", types):
            if not any(defs.get(o, ("",))[0] == "arith.constant" for o in operands):
                found.append(f"{value} = {op} {', '.join(operands)} : {types}")
        if op.startswith(("arith.", "tt.")):
            stack.extend(operands)
    return sorted(found)

#!/usr/bin/env python
"""Build one of SpikingJelly 2.0's native CUDA neuron operators on the GPU machine, as its sdist would.

SJ's wheel is pure Python; its native operators exist only when SJ is built from source with
SJ_BUILD_NATIVE_CUDA=1 (setup.py: one CUDAExtension per ``ops/<op>/native.cu``, flags -O3
--fmad=false and the device's arch flags, plus a ``_native_build.json`` its loader checks).
This script compiles the same source with torch.utils.cpp_extension, places ``_C.so`` and that
JSON beside the installed package, then checks in a fresh process that SJ runs it. It always
writes ``--status`` (ok, seconds, error) so the benchmarks can report why a row is missing.

Usage: ``python benchmarks/gpu_sj_native.py --op plif --sdist .whl/sdist/spikingjelly-2.0.0.tar.gz --status /tmp/sj_native_plif.json``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import write_json_atomic

CHECK = """
import torch
from spikingjelly.activation_based import functional, neuron, surrogate
node = {node}(detach_reset=True, step_mode="m", v_reset=0.0, surrogate_function=surrogate.ATan()).cuda()
x = torch.randn(4, 2, 1024, device="cuda", requires_grad=True)
node(x).sum().backward()
torch.cuda.synchronize()
print(functional.neuron_implementation("{op}", x.device))
"""
NODES = {"plif": "neuron.ParametricLIFNode", "lif": "neuron.LIFNode"}


def extract_ops(sdist: Path, dest: Path) -> Path:
    """Unpack the sdist's ``ops/`` folder (CUDA sources, headers, ``__init__.py``) into ``dest``; its path."""
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            top, _, rest = member.name.partition("/")
            if member.isfile() and rest.startswith("ops/"):
                member.name = rest.removeprefix("ops/")
                tar.extract(member, dest / "ops", filter="data")
    return dest / "ops"


def nvidia_include_dirs() -> list[str]:
    """Header folders of pip-installed NVIDIA libraries (cusparse.h, cublas_v2.h, ...) that torch's headers include."""
    found = []
    for entry in sys.path:
        base = Path(entry) / "nvidia"
        if base.is_dir():
            found += [str(p) for p in sorted(base.glob("*/include")) + sorted(base.glob("*/*/include")) if p.is_dir()]
    return found


def cudart_link_dir(scratch: Path) -> list[str]:
    """-L flags that let the linker find libcudart.so where only a versioned libcudart.so.N exists."""
    from torch.utils.cpp_extension import CUDA_HOME

    candidates = [Path(CUDA_HOME or "/nonexistent") / sub for sub in ("lib64", "lib", "targets/x86_64-linux/lib")]
    candidates += [Path(e) / "nvidia" / sub for e in sys.path for sub in ("cuda_runtime/lib", "cu13/lib", "cu12/lib")]
    for folder in candidates:
        if (folder / "libcudart.so").exists():
            return [f"-L{folder}"]
        versioned = sorted(folder.glob("libcudart.so.*"))
        if versioned:
            scratch.mkdir(parents=True, exist_ok=True)
            link = scratch / "libcudart.so"
            if not link.exists():
                link.symlink_to(versioned[0])
            return [f"-L{scratch}", f"-Wl,-rpath,{folder}"]
    return []


def installed_package_dir() -> Path:
    """The folder of the spikingjelly package on sys.path (found without importing it)."""
    spec = importlib.util.find_spec("spikingjelly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("spikingjelly is not installed (run gpu.sh's wheel install first)")
    return Path(next(iter(spec.submodule_search_locations)))


def build(op: str, sdist: Path, work: Path) -> dict[str, Any]:
    """Compile ``ops/<op>/native.cu``, install it into the spikingjelly package, check it runs; facts for the status."""
    import torch
    from torch.utils.cpp_extension import CUDA_HOME, _get_cuda_arch_flags, load

    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device: SJ's native operators need one to build and run")
    major, minor = torch.cuda.get_device_capability()
    os.environ.setdefault("TORCH_CUDA_ARCH_LIST", f"{major}.{minor}")
    os.environ.setdefault("MAX_JOBS", "4")
    ops = extract_ops(sdist, work / "src")
    source = ops / op / "native.cu"
    build_dir = work / f"build_{op}"
    build_dir.mkdir(parents=True, exist_ok=True)
    library = load(
        name=f"sj_{op}_native",
        sources=[str(source)],
        extra_include_paths=[str(ops), str(ops / op), *nvidia_include_dirs()],
        extra_cuda_cflags=["-O3", "--fmad=false"],
        extra_ldflags=cudart_link_dir(work / "cudart"),
        build_directory=str(build_dir),
        is_python_module=False,
        verbose=False,
    )
    built = Path(library) if isinstance(library, str) else next(build_dir.glob(f"sj_{op}_native*.so"))
    target = installed_package_dir() / "_ops" / op
    shutil.copy2(built, target / "_C.so")
    metadata = {
        "torch_version": str(torch.__version__),
        "operator_abi": runpy.run_path(str(ops / "__init__.py"))["_NATIVE_ABI"],
        "cuda_version": torch.version.cuda,
        "cuda_arch_flags": _get_cuda_arch_flags(),
        "torch_cuda_arch_list": os.environ["TORCH_CUDA_ARCH_LIST"],
    }
    (target / "_native_build.json").write_text(json.dumps(metadata, indent=2) + "\n")
    env = {**os.environ, f"SJ_{op.upper()}_CUDA_IMPLEMENTATION": "cuda"}
    check = subprocess.run([sys.executable, "-c", CHECK.format(node=NODES[op], op=op)], env=env, capture_output=True, text=True, timeout=120)
    if check.returncode != 0:
        (target / "_C.so").unlink()
        raise RuntimeError(f"built, but SJ could not run it: {check.stderr.strip()[-1500:]}")
    return {"installed": str(target / "_C.so"), "cuda_home": CUDA_HOME, "metadata": metadata, "check": check.stdout.strip()}


def main(argv: list[str] | None = None) -> int:
    """Build, install and check one operator; write the status JSON whatever happens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--op", choices=sorted(NODES), required=True, help="the SJ neuron operator to build")
    parser.add_argument("--sdist", type=Path, required=True, help="spikingjelly-2.0.0.tar.gz")
    parser.add_argument("--status", type=Path, required=True, help="JSON written at the end: ok, seconds, error")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    status: dict[str, Any] = {"op": args.op}
    try:
        with tempfile.TemporaryDirectory(prefix=f"sj_native_{args.op}_") as work:
            status.update(build(args.op, args.sdist, Path(work)), ok=True)
    except Exception as exc:  # noqa: BLE001 - recorded for the benchmark's JSON; the benchmark goes on
        status.update(ok=False, error=f"{type(exc).__name__}: {' '.join(str(exc).split())[-2000:]}")
    status["seconds"] = time.perf_counter() - started
    write_json_atomic(args.status, status)
    print(f"gpu_sj_native {args.op}: {'ok' if status['ok'] else status['error'][:300]} ({status['seconds']:.0f} s)", file=sys.stderr)
    return 0 if status["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Run the CPU kernel's work items on torch's own OpenMP threads, so they never compete with them.

A job (:mod:`numba_loops`) is run by workers that each call the kernel's ``run(job address)``,
claim a scratch slot and then chunks of work items with atomic increments until none are left,
so a worker that starts late or is preempted simply takes fewer chunks. Three launchers:

- ``openmp``: inside a parallel region of the OpenMP runtime torch itself runs on, entered
  through its ``GOMP_parallel`` (looked up through torch's own library, so it is torch's, not
  another copy in the process), calling the kernel's numba ``cfunc``. The workers are torch's
  intra-op threads: the ones still spinning after torch's previous operator pick the work up
  at once instead of fighting the kernel's threads for the cores.
- ``threads``: a ThreadPoolExecutor of torch.get_num_threads() - 1 threads plus the caller
  (for a torch built without OpenMP).
- ``serial``: the calling thread only.

Why ``openmp`` is the default, measured with ``python benchmarks/neuron_launch.py --rounds 8``
(2-core AMD EPYC, torch 2.13, 2 threads; PLIF(layer) float32 forward+backward at T=16,
B*N=2**20; median ms alone / alternating with a 1024x512 @ 512x1024 matmul before each step,
and SpikingJelly 2.0 eager / it, alternating, in the same process; the two figures per way come
from the benchmark's two processes, one per numba threading layer):

==========================================  ===================  ===============
way                                          alone / alternating  SJ / it, altern.
==========================================  ===================  ===============
``openmp`` (torch's own threads)             26.1 / 26.4,         5.8x, 6.0x
                                             26.6 / 27.1
``threads`` (a Python thread pool)           26.0 / 29.7,         5.2x, 5.6x
                                             25.5 / 28.8
numba ``parallel=True`` prange, workqueue    30.0 / 30.5          5.0x
numba prange, omp (the system's libgomp)     25.7 / 27.2          6.0x
``serial``                                   40.7 / 41.2,         3.7x, 3.9x
                                             42.0 / 42.1
previous commit (thread pool, static halves) 23.9 / 30.6          4.7x
==========================================  ===================  ===============

Only torch's own threads lose nothing next to torch's operators. numba's omp layer does about
as well here, but it is a process-wide choice that would bind every numba user in the process
and adds a second OpenMP runtime with its own spinning pool; ``torch.jit._fork`` runs its
function at once on the calling thread in eager mode, so it spreads nothing; a C++ extension
calling ``at::parallel_for`` would need a compiler at install time. (Measured while other
processes used 13-17 % of the machine, so the alone figures carry about 10 % of noise.)

On an oversubscribed machine (more runnable threads than cores) ``openmp`` shares a weakness of
torch's own operators: a parallel region ends when every thread of the team has arrived, and a
sleeping worker may wait milliseconds for a core (seen: 39 ms instead of 2.5 ms for T=8,
B*N=2**16 at a load of 7 on 2 cores, while the matmul beside it took 56 ms instead of 6).
The ``threads`` launcher does not wait for a pool thread that has not started.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import torch

from spikedyn.neurons.backends.numba_loops import CHUNK, ITEMS, NEXT, SLOT, WORKERS, numba

CHUNKS_PER_WORKER = 4  # small enough chunks that a late or preempted worker leaves its share to others
LAUNCHERS = ("openmp", "threads", "serial")


class Kernel(NamedTuple):
    """A kernel as the launchers need it: ``run(job address)`` (numba, GIL released) and its C entry."""

    run: Callable[[int], None]
    entry_address: int  # a ``void(void*)`` cfunc calling run, for GOMP_parallel


def _torch_gomp_parallel() -> Callable[..., None] | None:
    """GOMP_parallel of the OpenMP runtime torch's operators run on, or None (no OpenMP, or not found)."""
    if not torch.backends.openmp.is_available():
        return None
    try:
        # dlsym on torch's extension searches its own dependency tree: the runtime torch links.
        runtime = ctypes.CDLL(torch._C.__file__)
        parallel, max_threads = runtime.GOMP_parallel, runtime.omp_get_max_threads
    except (OSError, AttributeError, TypeError):  # no such symbols, or an extension without a file
        return None
    max_threads.restype = ctypes.c_int
    threads = torch.get_num_threads()  # first: torch sets its runtime's thread count on first use
    if max_threads() != threads:  # another runtime than the one at::get_num_threads reads
        return None
    parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    return parallel


_gomp_parallel = _torch_gomp_parallel() if numba is not None else None
_launcher = "openmp" if _gomp_parallel is not None else "threads"
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def available_launchers() -> tuple[str, ...]:
    """The launchers that can run here: ``openmp`` only where torch runs on a GNU-compatible OpenMP."""
    return tuple(name for name in LAUNCHERS if name != "openmp" or _gomp_parallel is not None)


def launcher() -> str:
    """The launcher the kernels use now."""
    return _launcher


def set_launcher(name: str) -> None:
    """Choose how work items are spread over threads (``openmp``, ``threads``, ``serial``); for tests and benchmarks."""
    global _launcher
    if name not in available_launchers():
        raise ValueError(f"launcher {name!r} is not available here; expected one of {list(available_launchers())!r}")
    _launcher = name


@contextlib.contextmanager
def use_launcher(name: str) -> Iterator[None]:
    """Run the kernels with launcher ``name`` inside the block."""
    previous = _launcher
    set_launcher(name)
    try:
        yield
    finally:
        set_launcher(previous)


def _thread_pool(size: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < size:
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="spikedyn")
        return _pool


def team_size(wanted: int) -> int:
    """How many workers a job that could use ``wanted`` gets: 1, or under ``openmp`` all of torch's threads.

    A smaller OpenMP team would make the runtime retire the other threads, and torch's next
    operator would have to start them again; the surplus workers find no chunk and return.
    """
    if wanted <= 1 or _launcher == "serial":
        return 1
    return torch.get_num_threads() if _launcher == "openmp" else wanted


def prepare_job(job: np.ndarray, workers: int) -> int:
    """Reset the job's counters for ``workers`` workers and size its chunks; returns its address."""
    job[NEXT] = job[SLOT] = 0
    job[WORKERS] = workers
    job[CHUNK] = max(1, -(-job[ITEMS] // (workers * CHUNKS_PER_WORKER))) if workers > 1 else max(1, job[ITEMS])
    return job.ctypes.data


def run_job(kernel: Kernel, job: np.ndarray, workers: int) -> None:
    """Run every work item of ``job`` with ``workers`` workers from :func:`team_size` (the job holds their scratch)."""
    name = _launcher if workers > 1 else "serial"
    address = prepare_job(job, workers)
    if name == "openmp":
        _gomp_parallel(kernel.entry_address, address, workers, 0)
    elif name == "threads":
        futures = [_thread_pool(workers - 1).submit(kernel.run, address) for _ in range(workers - 1)]
        kernel.run(address)  # returns once no chunk is left: a worker that has not started has nothing to do
        for future in futures:
            if not future.cancel():
                future.result()
    else:
        kernel.run(address)

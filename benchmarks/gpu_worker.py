"""Run a group of measurements in fresh subprocesses with their own environment variables and a deadline.

A group needs its own process when a library reads its configuration from the environment at
import time (SpikingJelly's SJ_*_CUDA_IMPLEMENTATION) or keeps compile caches in memory. The
worker writes its results after every measurement, so a worker killed at its deadline still
hands back everything it measured. A CUDA error that breaks the process's context (an illegal
memory access, say) would fail every later measurement in it: the worker stops there and a fresh
one takes the remaining jobs, less those of the contender that broke it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import write_json_atomic

#: Seconds a worker may run past its deadline (finishing one measurement) before it is killed.
GRACE_S = 20.0
#: Exit status of a worker that stopped because its CUDA context is broken.
BROKEN_CONTEXT = 3
STICKY_CUDA_ERRORS = ("illegal memory access", "device-side assert", "unspecified launch failure",
                      "misaligned address", "illegal instruction", "an illegal", "CUDA error: unknown error")  # fmt: skip

Job = dict[str, Any]
Save = Callable[[list[dict[str, Any]]], None]


def breaks_cuda_context(error: BaseException) -> bool:
    """Whether ``error`` is one of the CUDA errors after which the process's CUDA context is unusable."""
    return any(text in str(error) for text in STICKY_CUDA_ERRORS)


def run_group(script: Path, payload: dict[str, Any], env: dict[str, str], timeout_s: float) -> tuple[list[dict[str, Any]], int | None]:
    """(results, exit status or None if killed): run ``script --worker FILE`` once with ``payload`` on stdin."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "results.json"
        cmd = [sys.executable, str(script), "--worker", str(result_path)]
        try:
            status: int | None = subprocess.run(cmd, input=json.dumps(payload), text=True, env={**os.environ, **env}, timeout=timeout_s + GRACE_S).returncode
        except subprocess.TimeoutExpired:
            status = None
        results = json.loads(result_path.read_text()) if result_path.exists() else []
    return results, status


def run_jobs(script: Path, payload: dict[str, Any], env: dict[str, str], budget_s: float) -> list[dict[str, Any]]:
    """Every job of ``payload['jobs']`` as a result row (measured, or saying why not), plus the workers' other rows.

    Rows whose ``kind`` is set (e.g. 'device') are extra rows a worker writes first; jobs are matched
    to results in order. The first worker gets the payload as given, later ones without 'copy_bytes'.
    """
    deadline = time.time() + budget_s
    pending: list[Job] = list(payload["jobs"])
    rows: list[dict[str, Any]] = []
    first = True
    while pending:
        attempt = {**payload, "jobs": pending, "deadline": deadline} | ({} if first else {"copy_bytes": None})
        results, status = run_group(script, attempt, env, max(0.0, deadline - time.time()))
        first = False
        measured = [r for r in results if not r.get("kind")]
        rows += [r for r in results if r.get("kind")] + measured
        pending = pending[len(measured):]
        if status != BROKEN_CONTEXT or not pending or not measured:
            reason = "not measured" if status == 0 else ("worker killed at its deadline" if status is None else f"worker exited with status {status}")
            rows += [{**job, "error": reason} for job in pending]
            break
        broken = measured[-1]["key"]
        rows += [{**job, "error": f"not run: {broken} broke the CUDA context earlier"} for job in pending if job["key"] == broken]
        pending = [job for job in pending if job["key"] != broken]
    return rows


def serve(result_path: Path, measure_all: Callable[[dict[str, Any], Save], bool]) -> int:
    """Worker side: read the payload from stdin; ``measure_all(payload, save)`` calls save(results) as it
    goes and returns True when it stopped on a broken CUDA context. Returns the exit status."""
    payload = json.load(sys.stdin)
    broken = measure_all(payload, lambda results: write_json_atomic(result_path, results))
    return BROKEN_CONTEXT if broken else 0

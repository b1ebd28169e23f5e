"""The allocator tuning that the command and the benchmarks apply."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_cpu_allocator_applies_once_on_glibc():
    code = "from spikedyn.runtime import tune_cpu_allocator as t; print(t(), t())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]

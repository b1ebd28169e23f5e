"""Test-session set-up: Triton's interpreter without a GPU, and the Hypothesis profile (derandomized in CI)."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

import pytest
import torch
from hypothesis import settings

if not torch.cuda.is_available():
    # Read when spikedyn's Triton kernels are defined (first use), so it must be set before any test runs.
    os.environ.setdefault("TRITON_INTERPRET", "1")

# CI runs the same examples every time (derandomize: a red build is a regression, never a lucky new find, and it
# reproduces); a developer's run draws new ones each time, which explores further and replays failures from
# .hypothesis/. Neither has a deadline: a wall-clock limit fails on a loaded machine, and a first example that
# compiles the numba kernels takes a second. Both derive from Hypothesis' "default": where CI is set at all
# (even to "false"), Hypothesis has already loaded its own "ci", which a profile without a parent would inherit.
_BASE = settings.get_profile("default")
settings.register_profile("spikedyn-ci", _BASE, derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("spikedyn-dev", _BASE, deadline=None)


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """The profile for an environment: HYPOTHESIS_PROFILE if given, "spikedyn-ci" where CI is set (not "", "0" or "false")."""
    in_ci = environ.get("CI", "").lower() not in ("", "0", "false")
    return environ.get("HYPOTHESIS_PROFILE") or ("spikedyn-ci" if in_ci else "spikedyn-dev")


settings.load_profile(hypothesis_profile(os.environ))


@pytest.fixture(autouse=True)
def python_handles_ctrl_c():
    """Each test starts with Python's own SIGINT handler: a child process inherits an ignored SIGINT, and then no drill can stop it.

    Lightning sets SIGINT to SIG_IGN while it shuts down after a Ctrl-C (and its DDP teardown leaves SIG_DFL), so one
    test's in-process run could leave the pytest process deaf to Ctrl-C and make the Ctrl-C drills of later tests
    train to completion instead (seen once in a full run on a fresh clone).
    """
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield

"""The Hypothesis profile tests/conftest.py loads: derandomized where the CI variable is set, random elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from tests.conftest import hypothesis_profile

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "environ, profile",
    [({"CI": "true"}, "spikedyn-ci"), ({"CI": "1"}, "spikedyn-ci"), ({}, "spikedyn-dev"), ({"CI": ""}, "spikedyn-dev"),
     ({"CI": "false"}, "spikedyn-dev"), ({"CI": "true", "HYPOTHESIS_PROFILE": "spikedyn-dev"}, "spikedyn-dev")],
)  # fmt: skip
def test_the_ci_variable_chooses_the_profile(environ, profile):
    assert hypothesis_profile(environ) == profile


def test_ci_runs_the_same_examples_every_time_and_neither_profile_has_a_deadline():
    ci, dev = settings.get_profile("spikedyn-ci"), settings.get_profile("spikedyn-dev")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    assert not dev.derandomize and dev.deadline is None


def test_a_run_with_ci_set_loads_the_derandomized_profile():
    environment = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"} | {"CI": "true"}
    show = "import tests.conftest; from hypothesis import settings; print(settings.get_current_profile_name(), settings().derandomize)"
    done = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["spikedyn-ci", "True"]

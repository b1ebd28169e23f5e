"""The ``spikedyn`` command and its demonstration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spikedyn import __version__
from spikedyn.cli import main
from spikedyn.demo import format_result, make_bursts, run_demo


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"spikedyn {__version__}"
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_console_script_is_installed():
    done = subprocess.run([sys.executable, "-m", "spikedyn.cli", "--help"], capture_output=True, text=True, check=True)
    assert "usage: spikedyn" in done.stdout


def test_burst_data_has_equal_spike_counts_for_burst_and_spread_classes():
    import torch

    x, labels = make_bursts(256, 16, torch.Generator().manual_seed(0))
    assert x.shape == (16, 256, 40) and set(x.unique().tolist()) <= {0.0, 1.0}
    counts = x.sum(0)
    signal = torch.stack([counts[i, (labels[i] // 2) * 20 : (labels[i] // 2 + 1) * 20] for i in range(256)])
    assert (signal >= 4).all()


@pytest.mark.slow
def test_demo_learns_tau_and_beats_chance():
    result = run_demo(iterations=600, seed=0)
    assert result.accuracy_after > 0.6 > result.accuracy_before
    assert result.tau_after["sn1"][0] < result.tau_before["sn1"][0]
    text = format_result(result)
    assert "sn1" in text and "sn2" in text

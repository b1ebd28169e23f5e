"""The ``spikedyn`` command and its demonstration."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from spikedyn import __version__
from spikedyn.cli import build_parser, main
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


def _commands() -> argparse._SubParsersAction:
    """The subparsers of the ``spikedyn`` command."""
    (commands,) = [action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return commands


def _listed_commands() -> list[str]:
    """The subcommands ``spikedyn --help`` lists (the hidden sweep-run worker is not one)."""
    return [choice.dest for choice in _commands()._choices_actions]


def _help_of(capsys, *words: str) -> str:
    """What ``spikedyn WORDS --help`` prints (exiting 0 through argparse or returning 0 from the handler)."""
    try:
        code = main([*words, "--help"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", _listed_commands())
def test_every_subcommand_help_has_a_description_and_an_example(capsys, command):
    text = _help_of(capsys, command)
    description = _commands().choices[command].description
    assert description and " ".join(description.split()[:6]) in " ".join(text.split()), "the description is shown"
    assert re.search(rf"^examples?:\n  spikedyn {command}\b", text, re.MULTILINE), f"no 'example:' line for {command}"


def test_the_listed_commands_include_every_documented_one():
    assert {"demo", "train", "eval", "runs", "sweep", "study", "plot", "report", "table", "energy"} <= set(_listed_commands())


def test_runs_of_a_missing_folder_is_a_one_line_error(capsys, tmp_path):
    missing = tmp_path / "no_such_runs"
    assert main(["runs", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("spikedyn runs: ") and str(missing) in captured.err


def test_runs_of_an_empty_folder_is_an_empty_table(capsys, tmp_path):
    assert main(["runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("run ")


def test_options_may_come_between_positionals_of_any_subcommand():
    args = build_parser().parse_args(["table", "runs/a", "--out", "results", "runs/b"])
    assert args.runs == ["runs/a", "runs/b"] and args.out == "results"

"""The command sections of the docs hook: every subcommand of ``spikedyn`` with its ``--help``, from the parsers."""

from __future__ import annotations

import argparse
import os

from sections_common import cell

#: The width the command help is rendered at (argparse reads COLUMNS).
HELP_COLUMNS = 96


def subcommands(parser: argparse.ArgumentParser) -> tuple[dict[str, argparse.ArgumentParser], dict[str, str]]:
    """({name: parser} of every subcommand, {name: one-line help} of those listed by ``spikedyn --help``)."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices), {choice.dest: choice.help or "" for choice in action._choices_actions}


def generate_cli_commands() -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_COLUMNS)
    try:
        from spikedyn.cli import build_parser

        parser = build_parser()
        commands, listed = subcommands(parser)
        out = ["### `spikedyn`", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in commands.items():
            if name not in listed:
                continue
            out += [f"### `spikedyn {name}`", "", cell(listed[name]).replace("\\|", "|") + ".", "", "```text", sub.format_help().rstrip(), "```", ""]
        hidden = [name for name in commands if name not in listed]
        if hidden:
            out += ["Not listed by `spikedyn --help`, for spikedyn's own use: " + ", ".join(f"`spikedyn {name}`" for name in hidden)
                    + " (the command a local sweep worker runs for one run of a sweep file; `spikedyn sweep` starts it)."]  # fmt: skip
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(out).rstrip() + "\n"

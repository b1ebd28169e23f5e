"""What every ``spikedyn`` subcommand shares: a --help with a description and an example, options anywhere."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from collections.abc import Sequence
from typing import Any

WIDTH = 88  # the most a description is wrapped to; narrower terminals get their width, as argparse's own text


def command_help(description: str, *examples: str) -> dict[str, Any]:
    """``add_parser`` keywords that give a subcommand's --help its description and examples, in one format for all.

    The description is wrapped here (paragraphs split by blank lines) and the examples are kept
    as written, one per line under "example:", so that a new user sees what the command does and
    a line to copy.
    """
    if not examples:
        raise ValueError("command_help needs at least one example command line")
    width = min(WIDTH, shutil.get_terminal_size().columns - 2)
    paragraphs = [textwrap.fill(" ".join(part.split()), width) for part in description.split("\n\n") if part.strip()]
    heading = "example:" if len(examples) == 1 else "examples:"
    return {
        "description": "\n\n".join(paragraphs),
        "epilog": heading + "".join(f"\n  {line}" for line in examples),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


class IntermixedParser(argparse.ArgumentParser):
    """An ArgumentParser whose options may stand before, between or after its positionals, also as a subcommand.

    ``spikedyn plot accuracy runs/a --out x.png runs/b``: plain argparse takes the positionals
    before the first option and refuses the rest; ``parse_intermixed_args`` takes them all.
    """

    _mixing = False

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None):  # type: ignore[override]
        """Parse intermixed (argparse's two passes call back here, and get the plain parse)."""
        if self._mixing:
            return super().parse_known_args(args, namespace)
        self._mixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False

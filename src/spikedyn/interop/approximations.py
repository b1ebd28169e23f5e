"""What NIR cannot express: refused by name, or approximated only when asked and then reported.

Other exporters change behaviour silently (a soft reset written as a hard one); spikedyn
collects every layer it cannot export exactly, and either raises one error listing them all
or, with ``approximate=True``, applies the named approximation and reports each layer: in a
warning, in the export's result and in the graph's metadata.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One layer that NIR cannot express exactly: its name and type, the problem, and the
    approximation that would replace it (None: there is none, the export is refused)."""

    layer: str
    kind: str
    problem: str
    approximation: str | None = None

    def describe(self) -> str:
        """One line: the layer, what is wrong and what an approximate export does about it."""
        fix = f"approximation: {self.approximation}" if self.approximation else "no approximation exists"
        return f"{self.layer} ({self.kind}): {self.problem} [{fix}]"


class NIRExportError(ValueError):
    """The network cannot be exported exactly; the message names each layer and why."""

    def __init__(self, issues: Sequence[Issue], approximate: bool) -> None:
        self.issues = tuple(issues)
        lines = [f"cannot export to NIR {'even approximately' if approximate else 'exactly'}:"]
        lines += [f"  {issue.describe()}" for issue in self.issues]
        if not approximate and all(issue.approximation for issue in self.issues):
            lines.append("pass approximate=True (spikedyn export --approximate) to export with these approximations, reported layer by layer")
        super().__init__("\n".join(lines))


class ApproximationWarning(UserWarning):
    """A layer was exported with an approximation (``approximate=True``)."""


def settle(issues: Sequence[Issue], approximate: bool) -> tuple[str, ...]:
    """Raise :class:`NIRExportError` unless every issue may be approximated; return (and warn) one line per layer."""
    refused = [issue for issue in issues if not approximate or issue.approximation is None]
    if refused:
        raise NIRExportError(refused if approximate else issues, approximate)
    report = tuple(f"{issue.layer} ({issue.kind}): {issue.problem}; exported with {issue.approximation}" for issue in issues)
    for line in report:
        warnings.warn(line, ApproximationWarning, stacklevel=3)
    return report

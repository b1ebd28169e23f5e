"""Griffe extension: spikedyn's docstrings in reStructuredText habits, read as the Markdown the site renders.

The docstrings cite names with Sphinx roles (``:class:`~spikedyn.data.base.DatasetInfo```,
``:func:`train```) and open examples with ``Example::``. Markdown has no roles, so each becomes
the inline code of the name as Sphinx would print it (``~`` keeps the last component), and a
closing ``::`` becomes ``:`` (the indented block after it is code in Markdown too).
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")
LITERAL_BLOCK = re.compile(r"::$", re.MULTILINE)


def markdown(text: str) -> str:
    """``text`` with roles as inline code and ``Example::`` as ``Example:``."""

    def role(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2).strip()
        if target.endswith("()"):
            target = target[:-2]
        return f"`{target.rsplit('.', 1)[-1] if short else target}`"

    return LITERAL_BLOCK.sub(":", ROLE.sub(role, text))


class SphinxRolesAsCode(griffe.Extension):
    """Rewrite every docstring of the loaded objects once."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: object) -> None:  # noqa: ARG002
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)

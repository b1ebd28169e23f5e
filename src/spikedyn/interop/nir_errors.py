"""The error of a NIR import: a graph or file that spikedyn refuses to run, and why."""

from __future__ import annotations


class NIRImportError(ValueError):
    """The graph or file holds something spikedyn cannot or will not run; the message names each node (or the file)."""

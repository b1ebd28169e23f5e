"""spikedyn: spiking neural networks whose neuron dynamics are learned with the weights.

The top level holds the workflow (``train``, ``load_run``, ``Run``) and ``time_major``;
the building blocks are in ``spikedyn.neurons``, ``spikedyn.layers``, ``spikedyn.losses``,
``spikedyn.models`` and ``spikedyn.data``. Names load on first use, so that ``import
spikedyn`` (and ``spikedyn --help``) stays fast.

Layout additions to ARCHITECTURE.md's: ``spikedyn.api`` sits beside the CLI, above
``training`` and ``analysis`` (it trains and evaluates only through them);
``spikedyn.plugins`` sits below ``models`` and ``data`` (their registries resolve import
paths and entry points through it) and imports nothing of spikedyn's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public names of the top level, and the module each comes from.
_LAZY = {
    "Run": "spikedyn.api",
    "load_run": "spikedyn.api",
    "train": "spikedyn.api",
    "time_major": "spikedyn.data.batches",
    "time_major_collate": "spikedyn.data.batches",
}

__all__ = ["Run", "__version__", "load_run", "time_major", "time_major_collate", "train"]

if TYPE_CHECKING:
    from spikedyn.api import Run, load_run, train
    from spikedyn.data.batches import time_major, time_major_collate


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spikedyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

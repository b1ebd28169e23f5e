"""Run names: what varies between a sweep's runs, readable, filesystem-safe, unique and stable.

A name joins with "," the base label (with ``bases:``), then ``key=value`` for each grid key
(in the file's order) and each key of the run's variant (in the variant's order), then
``seed=N``: ``plif,tau=2.0,lr=0.001,seed=1``. A key is written as its last component, or as
many last components as tell it apart from the sweep's other grid and variant keys
(``neuron.tau`` beside ``optimizer.tau``). Numbers are written as Python reads them back
(``0.001``, ``1e-05``, ``2.0``), booleans and null as YAML does, words as they are; a value
with other characters (``/``, spaces, a list) keeps its letters, digits and ``._+-`` and gets
a short hash of its exact text, so two values never share a name. A name depends only on the
run's own values and on which keys the sweep varies: the same file gives the same names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

SEPARATOR = ","
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_LENGTH = 200  # folder names stay far below the 255 bytes file systems allow


def digest(text: str) -> str:
    """A short, stable hash of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def value_text(value: Any) -> str:
    """``value`` as it reads in a run name (only letters, digits and ._+-)."""
    if isinstance(value, (bool, type(None))):
        text = json.dumps(value)
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), default=str)
    safe = _UNSAFE.sub("-", text)
    return text if safe == text and text else "-".join(filter(None, (safe.strip("-"), digest(text))))


def key_labels(keys: Iterable[str]) -> dict[str, str]:
    """{dotted key: the fewest last components that no other of ``keys`` ends with}."""
    keys = list(dict.fromkeys(keys))
    labels = {}
    for key in keys:
        parts = key.split(".")
        for count in range(1, len(parts) + 1):
            label = ".".join(parts[-count:])
            if not any(other != key and (other == label or other.endswith(f".{label}")) for other in keys):
                break
        labels[key] = label
    return labels


def run_name(parts: list[str]) -> str:
    """The parts joined; a name too long for a folder keeps its start and gets a hash of the whole."""
    name = SEPARATOR.join(parts)
    return name if len(name) <= MAX_LENGTH else f"{name[: MAX_LENGTH - 10]}-{digest(name)}"

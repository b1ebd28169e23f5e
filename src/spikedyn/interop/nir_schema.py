"""The NIR node types spikedyn imports and the fields each holds in a file: what a reader may accept.

``VALUES``: parameters a node computes with (weights, biases, scales, thresholds, tau ...),
numbers that must all be finite. ``NUMBERS``: shapes, strides, dimensions. ``NUMBERS_OR_TEXT``:
Conv2d's padding, numbers or 'same'/'valid'. Fields are named as in NIR files (nir's writer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VALUES, NUMBERS, NUMBERS_OR_TEXT = "values", "numbers", "numbers or text"


@dataclass(frozen=True)
class Field:
    """One field of a node type: what it holds, whether a file may leave it out, and what nir's constructor gets then."""

    kind: str
    required: bool = True
    default: object = None  # None: nir's own default (v_reset: zeros); a field nir cannot take as None says what it is


def _pool() -> dict[str, Field]:
    return {"kernel_size": Field(NUMBERS), "stride": Field(NUMBERS), "padding": Field(NUMBERS)}


def _neuron(*names: str) -> dict[str, Field]:
    return {name: Field(VALUES) for name in names} | {"v_reset": Field(VALUES, required=False)}  # nir: zeros by default


#: NIR type name -> its fields, for every node type spikedyn imports (Input and Output included).
NODE_FIELDS: dict[str, dict[str, Field]] = {
    "Input": {"shape": Field(NUMBERS)},
    "Output": {"shape": Field(NUMBERS)},
    "Affine": {"weight": Field(VALUES), "bias": Field(VALUES)},
    "Linear": {"weight": Field(VALUES)},
    "Scale": {"scale": Field(VALUES)},
    "Conv2d": {"input_shape": Field(NUMBERS, required=False), "weight": Field(VALUES), "stride": Field(NUMBERS),
               "padding": Field(NUMBERS_OR_TEXT), "dilation": Field(NUMBERS), "groups": Field(NUMBERS),
               "bias": Field(VALUES)},  # fmt: skip
    "Flatten": {"start_dim": Field(NUMBERS), "end_dim": Field(NUMBERS), "input_type": Field(NUMBERS, required=False)},
    "AvgPool2d": _pool(),
    "SumPool2d": _pool(),
    "IF": _neuron("r", "v_threshold"),
    "LIF": _neuron("tau", "r", "v_leak", "v_threshold"),
    "CubaLIF": _neuron("tau_syn", "tau_mem", "r", "v_leak", "v_threshold") | {"w_in": Field(VALUES, required=False, default=1.0)},
}

#: How many names an error lists before it only counts the rest.
LISTED = 10


def listing(names: Sequence[str]) -> str:
    """``names`` joined by commas, the first :data:`LISTED` of them and a count of the rest: one short line."""
    shown = ", ".join(names[:LISTED])
    return shown if len(names) <= LISTED else f"{shown} and {len(names) - LISTED:,} more"


def unsupported_message(refused: Sequence[str]) -> str:
    """The refusal of nodes whose types spikedyn has no layer for, each given as 'name (Type)'."""
    imported = ", ".join(sorted(set(NODE_FIELDS) - {"Input", "Output"}))
    return (f"spikedyn has no layer for these NIR nodes: {listing(refused)} (it imports {imported}; "
            "nested graphs and recurrence are not imported)")  # fmt: skip

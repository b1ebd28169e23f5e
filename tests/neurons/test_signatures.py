"""Public constructors show their options: explicit keyword parameters with defaults and type hints, no **options."""

from __future__ import annotations

import inspect

import pytest

import spikedyn.layers
import spikedyn.neurons
from spikedyn.neurons import ALIF, IF, LIF, PLIF, CubaLIF

PUBLIC_CLASSES = [
    getattr(module, name)
    for module in (spikedyn.neurons, spikedyn.layers)
    for name in module.__all__
    if inspect.isclass(getattr(module, name))
]


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda cls: cls.__name__)
def test_no_public_constructor_hides_its_options(cls: type) -> None:
    parameters = inspect.signature(cls).parameters.values()
    assert not [p.name for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
    assert all(p.annotation is not inspect.Parameter.empty for p in parameters), [p.name for p in parameters if p.annotation is inspect.Parameter.empty]


NEURON_OPTIONS = {"v_threshold", "v_reset", "detach_reset", "surrogate", "imp", "imp_init_range", "backend", "shape", "threshold"}


@pytest.mark.parametrize(
    ("cls", "own"),
    [
        (IF, set()),
        (LIF, {"tau", "decay_input"}),
        (PLIF, {"tau", "decay_input", "tau_shape", "tau_init", "tau_std"}),
        (ALIF, {"tau", "decay_input", "tau_shape", "tau_init", "tau_std", "adaptation_tau", "adaptation_strength", "adaptation_shape", "detach_adaptation"}),
        (CubaLIF, {"tau", "decay_input", "tau_shape", "tau_init", "tau_std", "synaptic_tau", "synaptic_shape"}),
    ],
)
def test_neurons_list_every_option_with_its_default(cls: type, own: set[str]) -> None:
    parameters = inspect.signature(cls).parameters
    assert set(parameters) == NEURON_OPTIONS | own
    assert all(p.default is not inspect.Parameter.empty for p in parameters.values())
    text = inspect.getdoc(cls) or ""
    assert "Example" in text


def test_an_option_a_neuron_does_not_have_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="decay_input"):
        IF(decay_input=True)
    with pytest.raises(TypeError, match="tau_shape"):
        LIF(tau_shape="neuron")

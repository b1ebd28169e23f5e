"""Config kinds alif and cubalif and a learned threshold: built from the config, grouped, recorded and drawn as tau is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import spikedyn
from spikedyn.neurons import ALIF, PLIF, CubaLIF
from spikedyn.param_groups import parameter_groups
from spikedyn.training.config import ConfigError, config_with_values
from spikedyn.training.factories import neuron_factory

QUICK = {"trainer": {"max_epochs": 2, "progress_bar": False}, "data": {"options": {"time_steps": 2}, "batch_size": 64},
         "records": {"tensorboard": False}}  # fmt: skip


def test_the_config_builds_each_kind_with_its_options():
    alif = neuron_factory(config_with_values({}, {"model.neuron.kind": "alif", "model.neuron.adaptation_tau": 6.0,
                                                  "model.neuron.adaptation_strength": 0.2, "model.neuron.adaptation_shape": "channel",
                                                  "model.neuron.threshold": "neuron"}).model.neuron)(shape=(4, 2))  # fmt: skip
    assert isinstance(alif, ALIF) and alif.adaptation_logit.shape == (4,) and alif.threshold_param.shape == (4, 2)
    assert torch.allclose(alif.effective()["adaptation_tau"], torch.tensor(6.0))
    cuba = neuron_factory(config_with_values({}, {"model.neuron.kind": "cubalif", "model.neuron.synaptic_tau": 3.0}).model.neuron)(shape=(4,))
    assert isinstance(cuba, CubaLIF) and torch.allclose(cuba.effective()["synaptic_tau"], torch.tensor(3.0))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model.neuron.kind": "lif", "model.neuron.adaptation_tau": 8.0}, "model.neuron.adaptation_tau: applies to kind 'alif' only"),
        ({"model.neuron.kind": "alif", "model.neuron.synaptic_shape": "neuron"}, "model.neuron.synaptic_shape: applies to kind 'cubalif' only"),
        ({"model.neuron.kind": "if", "model.neuron.tau_shape": "neuron"}, "applies to kind 'plif' or 'alif' or 'cubalif' only"),
        ({"model.neuron.kind": "alif", "model.neuron.adaptation_tau": 1.0}, "model.neuron.adaptation_tau: must be a finite number > 1"),
        ({"model.neuron.threshold": "everywhere"}, "model.neuron.threshold: 'everywhere' is not one of"),
        ({"model.neuron.threshold": "layer", "model.neuron.v_threshold": -0.5, "model.neuron.v_reset": -1.0}, "a learned threshold starts at v_threshold"),
        ({"model.neuron.kind": "lfi"}, "model.neuron.kind: 'lfi' is not one of"),
    ],
)
def test_options_that_do_not_apply_or_do_not_fit_are_named(values, message):
    with pytest.raises(ConfigError, match=message):
        config_with_values({}, values)


def test_the_new_dynamics_get_their_own_group_without_weight_decay():
    model = torch.nn.Sequential(ALIF(shape=(3,), threshold="layer"), CubaLIF(), PLIF())
    groups = {group["name"]: group for group in parameter_groups(model, lr=1e-3, weight_decay=0.1, tau_lr=1e-2)}
    dynamics = {id(p) for p in groups["dynamics"]["params"]}
    expected = [model[0].threshold_param, model[0].adaptation_logit, model[0].adaptation_strength_param, model[1].synaptic_logit]
    assert dynamics == {id(p) for p in expected}
    assert groups["dynamics"]["lr"] == 1e-2 and groups["dynamics"]["weight_decay"] == 0.0  # the membrane tau's lr by default
    assert {id(p) for p in groups["tau"]["params"]} == {id(m.tau_logit) for m in model}
    assert parameter_groups(model, lr=1e-3, dynamics_lr=5e-4)[-1]["lr"] == 5e-4


@pytest.mark.slow
def test_a_run_records_and_draws_what_its_neurons_learn(tmp_path: Path):
    model = {"neuron": {"kind": "alif", "threshold": "channel"}, "options": {"fc_features": 32}}
    run = spikedyn.train("digits", output_dir=str(tmp_path), model=model, **QUICK)
    assert run.summary["status"] == "completed"
    rows = run.records.history
    for quantity in ("tau", "threshold", "adaptation_tau", "adaptation_strength"):
        assert f"{quantity}/features.1/mean" in rows[-1], quantity
    assert rows[0]["threshold/features.1/mean"] != rows[-1]["threshold/features.1/mean"]  # it learned
    snapshot = run.records.snapshot(-1)["tensors"]
    assert snapshot["threshold/features.1"].shape == (128,)
    from spikedyn.analysis import figures  # noqa: F401  (registers the figures)
    from spikedyn.analysis.figure_registry import draw_figure

    figure = draw_figure("learned", [run.records], quantity="adaptation_strength")
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()][0].startswith("beta(1): features.1")
    line = figure.axes[0].lines[0]
    epochs, means = run.records.column("adaptation_strength/features.1/mean")
    assert list(line.get_xdata()) == epochs and list(line.get_ydata()) == means

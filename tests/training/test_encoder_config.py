"""Spike encoders from a config (model.encoder): checked before training, trained reproducibly, counted as spikes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import spikedyn
from spikedyn.analysis.energy import count_operations
from spikedyn.layers import PoissonEncoder, TimeDistributed
from spikedyn.models import EncodedNetwork
from spikedyn.neurons import IF
from spikedyn.training.config import ConfigError, config_with_values

POISSON = {"model": {"encoder": {"kind": "poisson"}, "options": {"fc_features": 64}},
           "data": {"options": {"normalize": False, "time_steps": 2}, "batch_size": 64},
           "trainer": {"max_epochs": 1, "progress_bar": False}, "records": {"tensorboard": False}}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model.encoder.kind": "poisson"}, "model.encoder.kind: 'poisson' encodes intensities in \\[0, 1\\].*data.options.normalize=false"),
        ({"model.encoder.kind": "rate"}, "model.encoder.kind: 'rate' is not one of \\['direct', 'poisson', 'latency'\\]"),
        ({"model.encoder.kind": "latency", "data.options.normalize": False, "model.encoder.options": {"mode": "exp"}}, "mode must be 'linear' or 'log'"),
        ({"model.encoder.kind": "poisson", "data.options.normalize": False, "model.encoder.options": {"time_steps": 4}},
         "model.encoder.options.time_steps: the encoder takes T from the data"),
    ],
)
def test_an_encoder_the_config_cannot_run_is_refused_before_training(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_with_values({}, values)


def test_a_poisson_run_trains_and_draws_the_same_spikes_again(tmp_path: Path) -> None:
    first = spikedyn.train("digits", output_dir=str(tmp_path / "a"), **POISSON)
    second = spikedyn.train("digits", output_dir=str(tmp_path / "b"), **POISSON)
    assert first.summary["status"] == "completed"
    assert first.records.history == second.records.history  # the run's seed fixes every draw
    assert isinstance(first.network(), EncodedNetwork)


def test_the_first_layer_behind_an_encoder_counts_accumulates_of_its_spikes() -> None:
    torch.manual_seed(0)
    network = nn.Sequential(TimeDistributed(nn.Flatten(), nn.Linear(4, 3)), IF())
    frames = torch.rand(5, 2, 4)
    plain = count_operations(network, frames)
    encoded = count_operations(EncodedNetwork(PoissonEncoder(), network), frames)
    assert [layer.kind for layer in plain.layers] == ["MAC"] and [layer.kind for layer in encoded.layers] == ["SOP"]
    torch.manual_seed(1)
    spikes = PoissonEncoder()(frames)
    torch.manual_seed(1)
    encoded = count_operations(EncodedNetwork(PoissonEncoder(), network), frames)
    assert encoded.sops == pytest.approx(float(spikes.sum()) * 3 / 2)  # each spike reaches 3 outputs; per sample of 2

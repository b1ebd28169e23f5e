"""Synaptic operations and energy: hand counts on tiny networks whose spikes are known."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikedyn.analysis.energy import (
    count_operations,
    format_operations,
    operations_of_checkpoint,
)
from spikedyn.data import build_dataset
from spikedyn.layers import TimeDistributed
from spikedyn.models import build_model
from spikedyn.neurons import IF
from spikedyn.cli import main
from spikedyn.training.config import config_from_dict, config_to_dict, save_config
from spikedyn.training.factories import build_model_from_config


def linear_network() -> nn.Module:
    """Linear(4, 3) passing inputs 0..2 straight to an IF layer (V_th 1, hard reset), then Linear(3, 2)."""
    first = nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        first.weight.copy_(torch.eye(3, 4))
    return nn.Sequential(TimeDistributed(first), IF(), TimeDistributed(nn.Linear(3, 2)))


def test_linear_network_counts_by_hand():
    # T = 3 steps, the same input each step. Sample 0 charges the hidden neurons by 1, 0.5, 0
    # (spikes: every step; t = 1 only; never = 4); sample 1 by 0, 1, 0.2 (never; every step; 0.2, 0.4, 0.6 never = 3).
    x = torch.tensor([[1.0, 0.5, 0.0, 7.0], [0.0, 1.0, 0.2, -3.0]]).expand(3, 2, 4)
    count = count_operations(linear_network(), x)
    first, second = count.layers
    assert (first.name, first.kind, second.name, second.kind) == ("0.layer", "MAC", "2.layer", "SOP")
    assert count.samples == 2
    assert first.ops == 3 * 4 * 3  # per sample: 3 rows (steps) x in_features x out_features
    assert first.input_rate == pytest.approx(6 / 8)  # three nonzero inputs of four in each sample
    assert second.ops == pytest.approx(7 / 2 * 2)  # 7 spikes over 2 samples, each reaching 2 outputs
    assert second.input_rate == pytest.approx(7 / (3 * 2 * 3))
    assert (count.sops, count.macs) == (pytest.approx(7.0), 36)
    assert count.energy_j == pytest.approx(0.9e-12 * 7 + 4.6e-12 * 36)  # 171.9 pJ
    assert count.energy_mj == pytest.approx(171.9e-9)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_fan_out_is_out_channels_times_kernel_over_stride_squared(stride):
    first = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        first.weight.zero_()
        first.weight[:, 0, 1, 1] = 1.0  # both hidden channels copy the input pixel
    second = nn.Conv2d(2, 4, 3, stride=stride, padding=1, bias=False)
    network = nn.Sequential(TimeDistributed(first), IF(), TimeDistributed(second))
    frames = torch.zeros(2, 2, 1, 8, 8)  # T = 2, B = 2; sample 1 stays empty
    frames[:, 0, 0, 2:4, 2:4] = 1.0  # an interior 2x2 block: hidden spikes there, in both channels, every step
    count = count_operations(network, frames)
    spikes_per_sample = 2 * 4 * 2 / 2  # channels x pixels x steps, over 2 samples
    assert count.layers[1].ops == pytest.approx(spikes_per_sample * 4 * 3 * 3 / stride**2)
    assert count.layers[0].ops == 2 * (2 * 8 * 8) * 1 * 3 * 3  # steps x output elements x in_channels x kernel
    # Independently: the synapses actually used, one per (output element, nonzero input in its field).
    hidden = (frames.flatten(0, 1) != 0).float().expand(-1, 2, -1, -1)
    used = F.conv2d(hidden, torch.ones(4, 2, 3, 3), stride=stride, padding=1).sum() / 2
    assert count.layers[1].ops == pytest.approx(float(used))


def test_the_static_encoder_counts_the_first_layer_once_per_image():
    steps, images = 3, torch.rand(2, 1, 28, 28, dtype=torch.float64)
    counts = []
    for encoder in (False, True):
        torch.manual_seed(0)
        network = build_model("plifnet_mnist", static_encoder=encoder, time_steps=steps, dropout=0.0).double().eval()
        counts.append(count_operations(network, images.unsqueeze(0).expand(steps, -1, -1, -1, -1)))
    plain, encoded = counts
    per_image = (128 * 28 * 28) * 1 * 3 * 3  # output elements x in_channels x kernel of the first conv
    assert encoded.macs == per_image
    assert plain.macs == steps * per_image
    assert encoded.sops == pytest.approx(plain.sops)  # the same spikes reach the later layers


def save_toy_checkpoint(path):
    """A training checkpoint of the default digits network at T = 2, written to ``path``; returns (config, dataset, network)."""
    config = config_from_dict({"data": {"options": {"time_steps": 2}, "eval_batch_size": 2}})
    dataset = build_dataset(config.data.dataset, "test", **config.data.options)
    torch.manual_seed(0)
    network = build_model_from_config(config, dataset.info)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"hyper_parameters": {"config": config_to_dict(config), "info": asdict(dataset.info)},
                "state_dict": {f"network.{k}": v for k, v in network.state_dict().items()}}, path)  # fmt: skip
    return config, dataset, network


def test_operations_of_a_checkpoint_average_over_its_first_samples(tmp_path):
    path = tmp_path / "toy.ckpt"
    _, dataset, network = save_toy_checkpoint(path)
    count = operations_of_checkpoint(path, split="test", samples=5)  # batches of 2, 2, 1
    expected = count_operations(network.eval(), torch.stack([dataset[i][0] for i in range(5)], dim=1))
    assert count.samples == 5
    assert [(a.name, a.kind) for a in count.layers] == [(b.name, b.kind) for b in expected.layers]
    for a, b in zip(count.layers, expected.layers):
        assert a.ops == pytest.approx(b.ops) and a.input_rate == pytest.approx(b.input_rate)
    assert count.energy_mj == pytest.approx(expected.energy_mj)
    with pytest.raises(ValueError, match="samples"):
        operations_of_checkpoint(path, samples=0)


def test_the_table_lists_each_layer_and_the_energy():
    count = count_operations(linear_network(), torch.ones(2, 1, 4))
    text = format_operations(count)
    assert "0.layer" in text and "2.layer" in text and "MAC" in text and "SOP" in text
    assert f"{count.energy_mj:.4g} mJ per sample" in text


def test_the_command_takes_a_run_folders_best_or_last_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    config, _, _ = save_toy_checkpoint(run / "checkpoints" / "last.ckpt")
    save_config(config, run / "config.yaml")
    assert main(["energy", str(run), "--checkpoint", "last", "--samples", "2"]) == 0
    assert "mJ per sample" in capsys.readouterr().out
    assert main(["energy", "--samples", "2", str(run)]) == 2  # best by default: this run has none
    err = capsys.readouterr().err
    assert err.startswith("spikedyn energy: ") and "has no best checkpoint" in err

"""Dropout in the PLIF nets' classifiers follows the authors' code: one before FC1 on CIFAR-10, two elsewhere."""

import pytest
import torch
from torch import nn

from spikedyn.layers import TemporalDropout
from spikedyn.models import build_model


def _dropouts(model: nn.Module) -> list[int]:
    """Positions of the dropouts in the classifier."""
    return [index for index, layer in enumerate(model.classifier) if isinstance(layer, TemporalDropout)]


@pytest.mark.parametrize(
    "name, options, positions",
    [
        ("plifnet_cifar10", {}, [1]),
        ("plifnet_cifar10", {"dropout_before_fc2": True}, [1, 4]),
        ("plifnet_mnist", {}, [1, 4]),
        ("plifnet_nmnist", {}, [1, 4]),
        ("plifnet_cifar10dvs", {"input_size": 32}, [1, 4]),
        ("plifnet_dvs128gesture", {"input_size": 32}, [1, 4]),
        ("plifnet_mnist", {"dropout_before_fc2": False}, [1]),
    ],
)
def test_dropout_precedes_the_fcs_the_released_code_says(name, options, positions):
    assert _dropouts(build_model(name, **options)) == positions


def test_both_cifar10_layouts_have_the_same_parameters_and_checkpoints():
    torch.manual_seed(0)
    code = build_model("plifnet_cifar10", input_size=16)
    table_s1 = build_model("plifnet_cifar10", input_size=16, dropout_before_fc2=True)
    table_s1.load_state_dict(code.state_dict())
    assert code.num_parameters() == table_s1.num_parameters()
    assert [name for name, _ in code.named_modules() if "classifier" in name] == [
        name for name, _ in table_s1.named_modules() if "classifier" in name
    ]


def test_a_linear_readout_gives_real_valued_scores_from_one_fc_layer():
    """readout='linear' replaces FC{voting*classes}-neuron-voting by FC{classes} with bias (the IMP heads' kind)."""
    torch.manual_seed(0)
    voting = build_model("plifnet_mnist", input_size=8, fc_features=32, dropout=0.0)
    linear = build_model("plifnet_mnist", input_size=8, fc_features=32, dropout=0.0, readout="linear")
    x = torch.rand(3, 2, 1, 8, 8) * 4
    scores = linear(x)
    assert scores.shape == voting(x).shape == (3, 2, 10)
    assert not torch.all((scores * 10).round() == scores * 10)  # not rates of 10 voting neurons
    counts = {name: sum(p.numel() for p in model.parameters()) for name, model in (("voting", voting), ("linear", linear))}
    assert counts["voting"] - counts["linear"] == (32 * 100 + 1) - (32 * 10 + 10)  # the output PLIF layer has one tau
    assert linear.num_spiking_neurons() == voting.num_spiking_neurons() - 100
    with pytest.raises(ValueError, match="readout"):
        build_model("plifnet_mnist", readout="rates")

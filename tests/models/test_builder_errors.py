"""Bad names, options, factories and inputs get errors that say what is expected."""

import pytest
import torch
from torch import nn

from spikedyn.models import build_model, list_models


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet18'") as info:
        build_model("resnet18")
    for name in list_models():
        assert name in str(info.value)


def test_unknown_option_names_the_nearest_valid_one():
    with pytest.raises(TypeError, match="no option 'pool'.*did you mean 'pooling'"):
        build_model("plifnet_mnist", pool="avg")


def test_bad_option_values_are_named():
    with pytest.raises(ValueError, match="pooling='sum'"):
        build_model("plifnet_mnist", pooling="sum")
    with pytest.raises(ValueError, match="connect='or'"):
        build_model("sew_resnet18", connect="or", input_size=32)
    with pytest.raises(ValueError, match="too small"):
        build_model("plifnet_dvs128gesture", input_size=16)


def test_wrong_input_size_names_the_size_the_network_was_built_for():
    model = build_model("plifnet_mnist")
    with pytest.raises(ValueError, match=r"plifnet_mnist was built for input \[T, B, 1, 28, 28\], got \(2, 1, 2, 34, 34\)"):
        model(torch.rand(2, 1, 2, 34, 34))
    with pytest.raises(ValueError, match="built for input"):
        model(torch.rand(1, 28, 28))


def test_a_factory_without_shape_or_returning_no_module_is_refused():
    with pytest.raises(TypeError, match="keyword shape="):
        build_model("plifnet_mnist", neuron=lambda: nn.ReLU())
    with pytest.raises(TypeError, match="must return an nn.Module"):
        build_model("plifnet_mnist", neuron=lambda shape: "PLIF")
    with pytest.raises(TypeError, match="callable"):
        build_model("plifnet_mnist", neuron="PLIF")

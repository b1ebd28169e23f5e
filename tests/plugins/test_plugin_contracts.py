"""What a user's model and dataset callables receive and must return, and the errors when they do not."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from spikedyn.data import build_dataset, dataset_defaults, dataset_options
from spikedyn.models.encoded import EncodedNetwork
from spikedyn.neurons import LIF
from spikedyn.plugins import PluginError
from spikedyn.training.config import ConfigError, config_with_values
from spikedyn.training.factories import build_model_from_config

MODELS = '''
from torch import nn
from spikedyn.layers import TimeDistributed

def with_neuron(neuron, num_classes, input_shape, time_steps, width: int = 8):
    net = nn.Sequential(TimeDistributed(nn.Flatten(), nn.Linear(input_shape[0], width)), neuron(shape=(width,)),
                        TimeDistributed(nn.Linear(width, num_classes)))
    net.received = dict(num_classes=num_classes, input_shape=input_shape, time_steps=time_steps, width=width)
    return net

def takes_anything(**options):
    net = nn.Identity()
    net.received = options
    return net

def image_net(in_channels, input_size, num_classes):
    return nn.Identity()

def not_a_module(num_classes):
    return 3
'''

DATA = '''
import numpy as np
import torch
from spikedyn.data import DatasetInfo

READS = []

class Points(torch.utils.data.Dataset):
    """40 samples of 4 classes, frames [T=3, 5]; labels only by reading the items."""
    def __init__(self, split, shift=0.0, count=40):
        self.split, self.shift, self.count = split, shift, count
    def __len__(self):
        return self.count
    def __getitem__(self, index):
        READS.append(index)
        return torch.full((3, 5), float(index) + self.shift), index % 4

def points(split, shift: float = 0.0):
    return Points(split, shift)

def with_info(split):
    dataset = Points(split)
    dataset.info = DatasetInfo(name="points", num_classes=7, frame_shape=(5,), time_steps=3)
    dataset.labels = np.arange(40) % 4
    return dataset

SPLITS_ASKED = []

def splits_itself(split, val_fraction=0.15):
    SPLITS_ASKED.append((split, val_fraction))
    return Points(split, count=10 if split == "val" else 40)

def ragged(split):
    class Ragged(Points):
        def __getitem__(self, index):
            return torch.zeros(3 + (index == 5), 5), 0
    return Ragged(split)

def not_pairs(split):
    class Single(Points):
        def __getitem__(self, index):
            return torch.zeros(3, 5)
    return Single(split)

def no_split(shift=0.0):
    return Points("train")

def int_frames(split):
    class Ints(Points):
        def __getitem__(self, index):
            return torch.zeros(3, 5, dtype=torch.int64), 0
    return Ints(split)
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh package ``contracts`` importable from sys.path; its modules are forgotten afterwards."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "__init__.py").write_text("")
    (tmp_path / "contracts" / "models.py").write_text(MODELS)
    (tmp_path / "contracts" / "data.py").write_text(DATA)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "contracts"
    for name in [name for name in sys.modules if name == "contracts" or name.startswith("contracts.")]:
        del sys.modules[name]


def _config(**values: object):
    return config_with_values({}, {"trainer.progress_bar": False, **values})


def test_a_model_gets_its_options_the_neuron_of_model_neuron_and_what_it_names_from_the_data(package: str) -> None:
    config = _config(**{"model.name": "contracts.models:with_neuron", "model.options": {"width": 6},
                        "data.dataset": "contracts.data:points", "model.neuron.kind": "lif", "model.neuron.tau": 4.0})  # fmt: skip
    network = build_model_from_config(config, build_dataset(config.data.dataset, "train").info)
    assert network.received == {"num_classes": 4, "input_shape": (5,), "time_steps": 3, "width": 6}
    neuron = network[1]
    assert isinstance(neuron, LIF) and float(neuron.tau) == 4.0 and neuron.shape == (6,)
    assert network(torch.rand(3, 2, 5)).shape == (3, 2, 4)


def test_a_model_taking_any_option_gets_the_options_and_nothing_it_does_not_name(package: str) -> None:
    config = _config(**{"model.name": "contracts.models:takes_anything", "model.options": {"depth": 3, "anything": "x"},
                        "data.dataset": "contracts.data:points"})  # fmt: skip
    assert build_model_from_config(config, build_dataset(config.data.dataset, "test").info).received == {"depth": 3, "anything": "x"}


def test_a_model_option_it_does_not_take_is_named_with_its_options(package: str) -> None:
    with pytest.raises(ConfigError, match=r"model.options.depht: model 'contracts.models:with_neuron' has no option 'depht'.*width"):
        _config(**{"model.name": "contracts.models:with_neuron", "model.options": {"depht": 3}, "data.dataset": "contracts.data:points"})


def test_a_model_callable_must_return_a_module(package: str) -> None:
    config = _config(**{"model.name": "contracts.models:not_a_module", "data.dataset": "contracts.data:points"})
    with pytest.raises(ConfigError, match="returned a int, not a torch nn.Module"):
        build_model_from_config(config, build_dataset(config.data.dataset, "train").info)


def test_a_model_of_images_refuses_data_that_are_not_images(package: str) -> None:
    config = _config(**{"model.name": "contracts.models:image_net", "data.dataset": "contracts.data:points"})
    with pytest.raises(ConfigError, match=r"takes in_channels and input_size, for frames \[C, H, W\].*\[5\]"):
        build_model_from_config(config, build_dataset(config.data.dataset, "train").info)


def test_an_encoder_puts_the_users_network_behind_it(package: str) -> None:
    config = _config(**{"model.name": "contracts.models:with_neuron", "data.dataset": "contracts.data:points",
                        "model.encoder.kind": "poisson", "model.encoder.options": {"gain": 0.01}})  # fmt: skip
    network = build_model_from_config(config, build_dataset(config.data.dataset, "train").info)
    assert isinstance(network, EncodedNetwork) and network.network.received["width"] == 8


def test_validation_is_carved_per_class_from_the_training_split(package: str) -> None:
    train, val, test = (build_dataset("contracts.data:points", split) for split in ("train", "val", "test"))
    assert train.info.num_classes == 4 and train.info.frame_shape == (5,) and train.info.time_steps == 3
    assert len(train) + len(val) == 40 and len(test) == 40
    train_values = {float(train[i][0][0, 0]) for i in range(len(train))}
    val_values = {float(val[i][0][0, 0]) for i in range(len(val))}
    assert not train_values & val_values
    assert np.bincount(val.labels, minlength=4).tolist() == [2, 2, 2, 2]  # round(0.15 * 10) of each class
    whole = build_dataset("contracts.data:points", "train", val_fraction=0.0)  # protocol A
    assert len(whole) == 40
    assert len(build_dataset("contracts.data:points", "val", val_fraction=0.5, split_seed=3)) == 20


def test_split_options_are_options_of_every_user_dataset(package: str) -> None:
    assert dataset_options("contracts.data:points") == ["shift", "val_fraction", "split_seed"]
    assert dataset_defaults("contracts.data:points") == {"val_fraction": 0.15, "split_seed": 0, "shift": 0.0}
    assert build_dataset("contracts.data:points", "test", shift=0.5)[1][0][0, 0] == 1.5


def test_an_info_attribute_is_taken_as_it_is(package: str) -> None:
    data = importlib.import_module("contracts.data")
    data.READS.clear()
    dataset = build_dataset("contracts.data:with_info", "test")
    assert dataset.info.num_classes == 7 and dataset.info.name == "points"
    assert data.READS == []  # labels and info came from attributes: no item was read


def test_a_dataset_naming_val_fraction_splits_itself(package: str) -> None:
    data = importlib.import_module("contracts.data")
    assert len(build_dataset("contracts.data:splits_itself", "val", val_fraction=0.2)) == 10
    assert data.SPLITS_ASKED[-1] == ("val", 0.2)
    assert "split_seed" not in dataset_options("contracts.data:splits_itself")


@pytest.mark.parametrize(
    ("name", "split", "index", "message"),
    [
        ("contracts.data:ragged", "test", 5, r"item 5 has frames of shape \(4, 5\), but the dataset's are \[T, \*shape\] = \[3, 5\]"),
        ("contracts.data:not_pairs", "test", 0, "item 0 must be a pair"),
        ("contracts.data:no_split", "test", 0, "must take a keyword 'split'"),
        ("contracts.data:int_frames", "test", 0, "frames must be a float tensor"),
    ],
)
def test_a_dataset_breaking_the_contract_is_named(package: str, name: str, split: str, index: int, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        build_dataset(name, split)[index]


def test_an_unknown_option_of_a_user_dataset_lists_its_options(package: str) -> None:
    with pytest.raises(TypeError, match="has no option 'shfit'; its options: shift, val_fraction, split_seed"):
        build_dataset("contracts.data:points", "train", shfit=1)


def test_entry_points_register_names(package: str, tmp_path: Path) -> None:
    info = tmp_path / "contracts-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: contracts\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[spikedyn.datasets]\npoints = contracts.data:points\n[spikedyn.models]\nbroken = contracts.nothing:net\n")
    importlib.invalidate_caches()
    from spikedyn.data import list_datasets
    from spikedyn.models import list_models

    assert "points" in list_datasets() and "broken" in list_models()
    assert len(build_dataset("points", "test")) == 40
    message = r"model.name: model 'broken' \(entry point 'contracts.nothing:net' in group 'spikedyn.models'\): loading it raised ModuleNotFoundError"
    with pytest.raises(ConfigError, match=message):
        _config(**{"model.name": "broken"})


def test_the_current_folder_is_searched_after_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here_models.py").write_text("from torch import nn\ndef net(num_classes):\n    return nn.Identity()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path), os.getcwd())])
    try:
        assert _config(**{"model.name": "here_models:net"}).model.name == "here_models:net"
        assert str(tmp_path) in sys.path
    finally:
        sys.modules.pop("here_models", None)
    with pytest.raises(ConfigError, match=r"no module named 'there_models' \(looked in sys.path"):
        _config(**{"model.name": "there_models:net"})


@pytest.mark.parametrize("name", ["pkg:", ":net", "pkg.mod:net:x", "pkg-x:net", "pkg:1net"])
def test_a_malformed_import_path_says_how_one_is_written(name: str) -> None:
    with pytest.raises(ConfigError, match=r"an import path is 'package.module:callable'"):
        _config(**{"model.name": name})

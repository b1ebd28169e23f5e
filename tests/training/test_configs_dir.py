"""Every experiment under configs/ loads, is named after its file, says what it reproduces, and builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spikedyn.data import DatasetInfo, build_dataset
from spikedyn.training.config import load_config
from spikedyn.training.factories import (
    build_loss,
    build_model_from_config,
    neuron_factory,
)
from spikedyn.training.config.schema import SOURCE_ASPECTS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
EXPERIMENTS = sorted(CONFIGS.glob("*.yaml"))

# (channels, height, width, classes, default T) of each dataset's frames, from the datasets' own docs.
FRAMES = {
    "digits": (1, 8, 8, 10, 4),
    "event_digits": (2, 34, 34, 10, 10),
    "mnist": (1, 28, 28, 10, 8),
    "fashion_mnist": (1, 28, 28, 10, 8),
    "cifar10": (3, 32, 32, 10, 8),
    "nmnist": (2, 34, 34, 10, 10),
    "cifar10dvs": (2, 128, 128, 10, 20),
    "dvs128_gesture": (2, 128, 128, 11, 20),
    "ncaltech101": (2, 48, 48, 101, 10),
    "imagenet": (3, 224, 224, 1000, 4),
}

# Millions of parameters of the IMP paper's ImageNet SEW-ResNets (Table 3): (without IMP, with IMP).
IMAGENET_PARAMETERS = {"sew_resnet18": (11.69, 14.17), "sew_resnet34": (21.79, 25.54), "sew_resnet50": (25.56, 36.67)}
# Images per GPU on 4 GPUs in the IMP paper's released ImageNet scripts (IMP-SNN in1k/LTS/run.sh).
IMAGENET_BATCH = {"sew_resnet18": 192, "sew_resnet34": 128, "sew_resnet50": 48}
# What a source names: a paper (its section or table), released code or scripts, or our choice with its reason.
SOURCE_WORDS = ("paper", "code", "scripts", "configs", "thesis", "logs", ".py", "our choice: ", "our reading")


def expected_info(cfg) -> DatasetInfo:
    """The DatasetInfo the config's dataset would report, without reading any data."""
    channels, height, width, classes, steps = FRAMES[cfg.data.dataset]
    options = cfg.data.options
    if options.get("resize"):
        height = width = options["resize"]
    if options.get("crop"):
        height = width = options["crop"]
    if "upscale" in options and cfg.data.dataset == "digits":
        height, width = height * options["upscale"], width * options["upscale"]
    return DatasetInfo(cfg.data.dataset, classes, (channels, height, width), options.get("time_steps", steps))


def test_the_folder_holds_the_experiments():
    names = {path.stem for path in EXPERIMENTS}
    assert {"digits", "event_digits", "plif_table2_cifar10dvs", "pertau_lambda0.1", "imp_tsweep_cifar10dvs_lts_t16", "imp_imagenet_sew_resnet50_imp_lts"} <= names
    assert len(EXPERIMENTS) >= 50


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda path: path.stem)
def test_each_config_loads_is_named_after_its_file_and_builds(path):
    cfg = load_config(path)
    assert cfg.name == path.stem
    assert len(cfg.description.split()) >= 10  # says what it reproduces
    build_loss(cfg)
    with torch.device("meta"):  # shapes and options only: no memory, no time
        model = build_model_from_config(cfg, expected_info(cfg))
    assert model.input_shape == expected_info(cfg).frame_shape


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("imp_imagenet_*.yaml")), ids=lambda path: path.stem)
def test_imagenet_configs_build_the_papers_sew_resnets(path):
    cfg = load_config(path)
    info = expected_info(cfg)
    assert (info.frame_shape, info.num_classes, info.time_steps) == ((3, 224, 224), 1000, 4)
    assert cfg.loss.name == "lts" and (cfg.trainer.devices, cfg.data.batch_size) == (4, IMAGENET_BATCH[cfg.model.name])
    assert (cfg.model.neuron.kind, cfg.model.neuron.surrogate) == ("if", "atan")  # the scripts' IFNode and ATan
    with torch.device("meta"):
        model = build_model_from_config(cfg, info)
    millions = sum(p.numel() for p in model.parameters()) / 1e6
    expected = IMAGENET_PARAMETERS[cfg.model.name][cfg.model.neuron.imp == "neuron"]
    assert abs(millions - expected) < 0.011  # the paper gives 21.7977M as 21.79M
    assert f"{expected:.2f}M parameters" in cfg.description


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda path: path.stem)
def test_each_config_says_where_every_value_that_matters_comes_from(path):
    """A paper section, a released-code file, or 'our choice: why' for each aspect of SOURCE_ASPECTS."""
    cfg = load_config(path)
    missing = [aspect for aspect in SOURCE_ASPECTS if aspect not in cfg.sources]
    assert not missing, f"{path.name} gives no source for {missing}"
    for aspect, source in cfg.sources.items():
        assert any(word in source for word in SOURCE_WORDS), f"{path.name}: sources.{aspect} names no paper, code or reason: {source!r}"
        if "our choice" in source:
            assert len(source.split("our choice", 1)[1].split()) >= 3, f"{path.name}: sources.{aspect} makes a choice without a reason"


def test_protocols_follow_the_papers():
    """PLIF Table 2/4/5 and the IMP runs report the maximum test accuracy (A); Table S2 and the per-neuron study train with validation (B)."""
    for path in EXPERIMENTS:
        cfg = load_config(path)
        name = path.stem
        if name.startswith(("plif_table2_", "plif_table4_", "plif_table5_", "imp_")):
            assert cfg.protocol == "A", name
        if name.startswith(("plif_table_s2_", "pertau_", "digits", "event_digits")):
            assert cfg.protocol == "B", name
    assert len([p for p in EXPERIMENTS if p.stem.startswith("plif_table_s2_")]) == 6


def test_names_are_unique():
    names = [load_config(path).name for path in EXPERIMENTS]
    assert len(names) == len(set(names))


def test_the_default_run_is_digits_yaml():
    default, digits = load_config(), load_config(CONFIGS / "digits.yaml")
    for get in (
        lambda c: c.name,
        lambda c: c.seed,
        lambda c: c.data.dataset,
        lambda c: c.data.batch_size,
        lambda c: c.model.name,
        lambda c: repr(neuron_factory(c.model.neuron)(shape=(3,))),  # alpha None is ATan's own 2.0
        lambda c: c.loss,
        lambda c: c.regularizer,
        lambda c: (c.optimizer.name, c.optimizer.lr, c.optimizer.weight_decay),
        lambda c: c.scheduler.name,
        lambda c: c.trainer.max_epochs,
    ):
        assert get(default) == get(digits)
    train = {
        "default": build_dataset(default.data.dataset, "train", **default.data.options),
        "digits.yaml": build_dataset(digits.data.dataset, "train", **digits.data.options),
    }
    assert train["default"].info == train["digits.yaml"].info
    models = {key: build_model_from_config(cfg, train[key].info) for key, cfg in (("default", default), ("digits.yaml", digits))}
    assert models["default"].summary() == models["digits.yaml"].summary()
    frames = torch.stack([train["digits.yaml"][i][0] for i in range(4)], dim=1)  # [T, B, C, H, W]
    assert models["digits.yaml"].eval()(frames).shape == (4, 4, 10)

"""`spikedyn train --print-config` shows the resolved config, and `--config NAME` finds a packaged config."""

from pathlib import Path

import yaml

from spikedyn.cli import main
from spikedyn.data import dataset_defaults
from spikedyn.training.config import config_to_dict, load_config, save_config
from spikedyn.training.config.names import packaged_configs
from spikedyn.training.config.schema import ExperimentConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _printed(capsys, *args: str) -> dict:
    assert main(["train", "--print-config", *args]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def _keys(tree: dict, prefix: str = "") -> set[str]:
    return {f"{prefix}{key}" for key in tree} | {k for key, value in tree.items() if isinstance(value, dict) for k in _keys(value, f"{prefix}{key}.")}


def test_every_default_is_filled_in_dataset_options_included_and_nothing_is_trained(tmp_path, capsys):
    printed = _printed(capsys, "--out", str(tmp_path))
    assert _keys(config_to_dict(ExperimentConfig())) <= _keys(printed)
    defaults = dataset_defaults("digits")
    assert printed["data"]["options"] == {key: value for key, value in defaults.items() if key != "val_fraction"}  # T = 4 among them
    assert printed == config_to_dict(load_config())
    assert not any(tmp_path.iterdir())


def test_overrides_show_in_the_printed_options_and_the_validation_share_is_the_protocols(capsys):
    printed = _printed(capsys, "data.options.time_steps=2", "protocol=A")
    assert printed["data"]["options"]["time_steps"] == 2
    assert "val_fraction" not in printed["data"]["options"]  # A holds nothing out, B the dataset's share
    assert _printed(capsys, "data.options.val_fraction=0.2")["data"]["options"]["val_fraction"] == 0.2


def test_a_saved_config_records_the_dataset_options(tmp_path):
    saved = yaml.safe_load(save_config(ExperimentConfig(), tmp_path / "config.yaml").read_text())
    assert saved["data"]["options"]["time_steps"] == 4


def test_a_resumed_runs_config_prints_with_its_overrides(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("name: old\ndata:\n  options: {}\n")  # saved before the options were resolved
    printed = _printed(capsys, "--resume", str(tmp_path), "trainer.max_epochs=50")
    assert printed["name"] == "old" and printed["trainer"]["max_epochs"] == 50 and printed["data"]["options"]["time_steps"] == 4


def test_config_finds_a_packaged_config_by_name(capsys):
    by_name, with_suffix = _printed(capsys, "--config", "plif_table2_mnist"), _printed(capsys, "--config", "plif_table2_mnist.yaml")
    assert by_name == with_suffix == config_to_dict(load_config(CONFIGS / "plif_table2_mnist.yaml"))


def test_an_unknown_config_name_lists_the_packaged_ones(capsys):
    assert main(["train", "--config", "digitz", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikedyn train: --config digitz: no such file") and "did you mean 'digits'?" in err
    assert "packaged configs: digits, event_digits, " in err and err.count("\n") == 1


def test_the_packaged_configs_are_those_of_the_configs_folder():
    assert packaged_configs() == sorted(path.stem for path in CONFIGS.glob("*.yaml"))

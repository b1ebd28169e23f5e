"""`--resume RUN` takes overrides that do not change the experiment and refuses the others by name."""

from contextlib import ExitStack

import pytest

from spikedyn.training.config import ConfigError, load_config, save_config
from spikedyn.training.runs.resume import RESUME_KEYS, experiment_changes, resume_config
from spikedyn.training.train import _exact_run_folder

SETTINGS = ["trainer.max_epochs=40", "trainer.progress_bar=false", "trainer.loggers=[csv]", "data.num_workers=2", "records.tensorboard=false"]


def _run(tmp_path, text: str = "name: old\n"):
    (tmp_path / "config.yaml").write_text(text)
    return tmp_path


def test_settings_and_more_epochs_may_be_overridden(tmp_path):
    config = resume_config(_run(tmp_path), SETTINGS)
    assert (config.trainer.max_epochs, config.trainer.progress_bar, config.trainer.loggers) == (40, False, ["csv"])
    assert (config.data.num_workers, config.records.tensorboard) == (2, False)


def test_overrides_that_change_the_experiment_are_refused_by_name(tmp_path):
    with pytest.raises(ConfigError) as caught:
        resume_config(_run(tmp_path), ["trainer.progress_bar=false", "optimizer.lr=0.1", "data.options.time_steps=8"])
    message = str(caught.value)
    assert "data.options.time_steps, optimizer.lr would change it" in message
    assert all(key in message for key in RESUME_KEYS) and "start a new run" in message


def test_an_unknown_key_names_the_nearest_valid_one(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'trainer.max_epochs'"):
        resume_config(_run(tmp_path), ["trainer.max_epoch=40"])


def test_a_run_saved_before_dataset_options_were_resolved_is_the_same_experiment(tmp_path):
    old = load_config(_run(tmp_path, "name: old\ndata:\n  options: {time_steps: 2}\n").joinpath("config.yaml"))
    new = load_config(save_config(old, tmp_path / "new.yaml"))
    assert experiment_changes(old, new, allowed=()) == []
    assert resume_config(tmp_path, []).data.options["time_steps"] == 2


def test_a_sweep_run_folder_continues_with_other_settings_but_not_another_experiment(tmp_path):
    folder = _run(tmp_path, "name: old\ndata:\n  options: {}\n")  # an old run folder, killed before its first checkpoint
    with ExitStack() as held:
        run, continuing = _exact_run_folder(load_config(None, ["name=old", *SETTINGS]), folder, held)
    assert run.path == folder and not continuing
    with ExitStack() as held, pytest.raises(ConfigError, match=r"differs in seed"):
        _exact_run_folder(load_config(None, ["name=old", "seed=1", *SETTINGS]), folder, held)

"""A config with what it leaves to defaults written out: the dataset options a run trains with, T included."""

from __future__ import annotations

import dataclasses

from spikedyn.data import dataset_defaults
from spikedyn.training.config.schema import ExperimentConfig

#: Left to the protocol where a config does not set it: B holds the dataset's default share out, A nothing.
PROTOCOL_OPTIONS = ("val_fraction",)


def resolved(cfg: ExperimentConfig) -> ExperimentConfig:
    """``cfg`` with ``data.options`` holding every option of its dataset, defaults filled in (bar those of the protocol).

    A saved config.yaml then records what the run was built with, and two configs compare by
    what they train: one that leaves ``time_steps`` out equals one that sets the default. An
    A and a B run of one config still differ in ``protocol`` alone. An unknown dataset (or a
    user's that cannot be loaded) is left as it is, for the config checks to name.
    """
    try:
        defaults = {key: value for key, value in dataset_defaults(cfg.data.dataset).items() if key not in PROTOCOL_OPTIONS}
    except ValueError:
        return cfg
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, options={**defaults, **cfg.data.options}))

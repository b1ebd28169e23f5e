"""Training: experiment configs, the Lightning trainer that records tau and IMP, resumable runs.

Import the parts you need (``spikedyn.training.train``, ``.config``, ``.evaluate``); this
package's ``__init__`` stays light so that ``spikedyn --help`` does not load Lightning.

Layout, lowest first: a module imports only modules on its own level or below (module-level
imports; ``tests/test_layout.py`` checks that no import circle forms)::

    protocols.py     the PLIF paper's accuracy protocols A and B          (leaves: import no
    layer_stats.py   firing rates, tau and IMP statistics of the layers    other part of
    epoch_lines.py   one console line per epoch                            training)
    config/          what an experiment is: schema, YAML reading and its limits, checks,
                     packaged configs by name, defaults resolved, load and save; imports
                     data/, models/, losses, neurons/ and protocols, never runs/, loggers or
                     Lightning (``spikedyn.training.config`` exports the whole API)
    runs/            a run folder's life: its files, lock, checkpoints, per-epoch records and
                     summary, resume, early stops, divergence, the experiment digest, listing
    factories.py     a config's neurons, model, loss, regulariser, optimiser (plain torch)
    loggers.py       the experiment trackers (TensorBoard, CSV, MLflow, W&B)
    accelerators.py  whether the machine has the accelerator a config asks for
    datamodule.py    the LightningDataModule;  module.py  the LightningModule
    progress.py      the run's console
    train.py         one run, start to end;  evaluate.py  a run or checkpoint on a split
    commands.py      the ``train``, ``eval`` and ``runs`` subcommands

Modules that lived flat here before (``run_folder``, ``config_checks``, ``schema``, ...) still
import from their old paths with a DeprecationWarning (:data:`spikedyn._moved.MOVED`).
"""

from spikedyn import _moved

_moved.install()


def __getattr__(name: str) -> object:
    return _moved.package_attribute(__name__, name)

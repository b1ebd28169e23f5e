"""Old module paths that moved when ``training/`` and ``data/`` became packages: they still import, with a warning.

``import spikedyn.training.run_folder`` (or ``from spikedyn.data import event_camera``, or
unpickling a class by its old module path) gives the module at its new path, the very same
module object, so monkeypatching through either name patches one module. Each old name issues
a :class:`DeprecationWarning` the first time a process imports it. The old names go in a later
release; :data:`MOVED` is the whole list.

Three old modules kept their name as a package: ``spikedyn.training.config`` (the package
exports what the module did), ``spikedyn.training.runs`` (the package exports the run listing,
now :mod:`spikedyn.training.runs.listing`) and ``spikedyn.data.static`` (the package exports the
MNIST, Fashion-MNIST and CIFAR-10 datasets, now :mod:`spikedyn.data.static.images`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: Old dotted module name -> the module's new name.
MOVED: dict[str, str] = {
    "spikedyn.training.config_checks": "spikedyn.training.config.checks",
    "spikedyn.training.config_types": "spikedyn.training.config.types",
    "spikedyn.training.config_yaml": "spikedyn.training.config.reading",
    "spikedyn.training.config_names": "spikedyn.training.config.names",
    "spikedyn.training.config_resolve": "spikedyn.training.config.resolve",
    "spikedyn.training.schema": "spikedyn.training.config.schema",
    "spikedyn.training.run_folder": "spikedyn.training.runs.folder",
    "spikedyn.training.run_lock": "spikedyn.training.runs.lock",
    "spikedyn.training.checkpoint": "spikedyn.training.runs.checkpoint",
    "spikedyn.training.records": "spikedyn.training.runs.records",
    "spikedyn.training.resume": "spikedyn.training.runs.resume",
    "spikedyn.training.stops": "spikedyn.training.runs.stops",
    "spikedyn.training.divergence": "spikedyn.training.runs.divergence",
    "spikedyn.training.summary_fields": "spikedyn.training.runs.summary",
    "spikedyn.training.experiment_digest": "spikedyn.training.runs.digest",
    "spikedyn.data.digits": "spikedyn.data.static.digits",
    "spikedyn.data.static_files": "spikedyn.data.static.files",
    "spikedyn.data.static_augment": "spikedyn.data.static.augment",
    "spikedyn.data.imagenet": "spikedyn.data.static.imagenet",
    "spikedyn.data.aedat4": "spikedyn.data.events.aedat4",
    "spikedyn.data.aedat4_decode": "spikedyn.data.events.aedat4_decode",
    "spikedyn.data.event_camera": "spikedyn.data.events.camera",
    "spikedyn.data.event_dataset": "spikedyn.data.events.dataset",
    "spikedyn.data.event_digits": "spikedyn.data.events.digits",
    "spikedyn.data.event_errors": "spikedyn.data.events.errors",
    "spikedyn.data.event_sources": "spikedyn.data.events.sources",
    "spikedyn.data.frames": "spikedyn.data.events.frames",
    "spikedyn.data.neuromorphic": "spikedyn.data.events.neuromorphic",
    "spikedyn.data.nmnist_format": "spikedyn.data.events.nmnist_format",
    "spikedyn.data.spikformer_augment": "spikedyn.data.events.spikformer_augment",
}


class _AliasLoader(importlib.abc.Loader):
    """Loads an old name as the module at its new name (no new module object), warning once."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there (the old path goes in a later release)",
                      DeprecationWarning, stacklevel=2)  # fmt: skip
        module = importlib.import_module(new)
        self._spec = module.__spec__  # the import machinery sets __spec__ to the alias's spec: put it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the old names of :data:`MOVED`, before the file system is searched."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader())


def install() -> None:
    """Put the finder of old names first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())


def package_attribute(package: str, name: str) -> ModuleType:
    """For a package's ``__getattr__``: an old submodule name read as an attribute (``spikedyn.data.frames``)."""
    old = f"{package}.{name}"
    if old not in MOVED:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return importlib.import_module(old)

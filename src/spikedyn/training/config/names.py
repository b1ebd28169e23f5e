"""The experiment configs shipped with spikedyn, found by name: ``spikedyn train --config digits``."""

from __future__ import annotations

from pathlib import Path

from spikedyn.training.config.types import ConfigError, nearest

#: The configs in the installed package: a link to the repository's configs/ in a checkout, the files in a wheel.
PACKAGED = Path(__file__).resolve().parents[2] / "configs"


def packaged_configs() -> list[str]:
    """The names of the packaged configs (their file names without .yaml), sorted."""
    return sorted(path.stem for path in PACKAGED.glob("*.yaml"))


def find_config(name: str) -> Path:
    """The file ``--config name`` means: the path as given when it exists or names a folder, else the packaged config ``name``.

    ``digits`` and ``digits.yaml`` both find the packaged configs/digits.yaml; a bare name that
    is neither a file here nor a packaged config is an error listing the packaged names.
    """
    path = Path(name)
    if path.exists() or path.parent != Path("."):
        return path  # a missing file in a folder is reported by the loader, naming the path
    packaged = PACKAGED / (name if name.endswith(".yaml") else f"{name}.yaml")
    if packaged.is_file():
        return packaged
    names = packaged_configs()
    stem = name.removesuffix(".yaml")
    raise ConfigError(f"--config {name}: no such file, and no packaged config of that name{nearest(stem, names)}; packaged configs: {', '.join(names)}")

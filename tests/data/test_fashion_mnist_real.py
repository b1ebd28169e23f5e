"""The real Fashion-MNIST files from Debian's dataset-fashion-mnist: read exactly, found with and without a root, trainable.

Skipped where the package is not installed (``apt-get install dataset-fashion-mnist``, as root);
``.ci/run`` installs it where it runs as root with apt.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data import build_dataset
from tests.training.runs import cli, only_run

SYSTEM = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(not (SYSTEM / "train-images-idx3-ubyte.gz").is_file(),
                                reason=f"Debian's dataset-fashion-mnist is not installed ({SYSTEM} is missing)")  # fmt: skip


def raw(name: str, offset: int) -> np.ndarray:
    """A raw IDX file's payload, read independently of spikedyn's reader."""
    return np.frombuffer(gzip.decompress((SYSTEM / name).read_bytes()), dtype=np.uint8, offset=offset)


def test_every_image_and_label_is_read_as_in_the_raw_files() -> None:
    train = build_dataset("fashion_mnist", "train", root=str(SYSTEM), val_fraction=0.0, time_steps=1, normalize=False)
    test = build_dataset("fashion_mnist", "test", root=str(SYSTEM), time_steps=1, normalize=False)
    assert np.array_equal(train.labels, raw("train-labels-idx1-ubyte.gz", 8))
    assert np.array_equal(test.labels, raw("t10k-labels-idx1-ubyte.gz", 8))
    assert np.array_equal(train.images[:, 0], raw("train-images-idx3-ubyte.gz", 16).reshape(60000, 28, 28))
    assert np.array_equal(test.images[:, 0], raw("t10k-images-idx3-ubyte.gz", 16).reshape(10000, 28, 28))
    assert np.bincount(train.labels).tolist() == [6000] * 10 and np.bincount(test.labels).tolist() == [1000] * 10
    assert train.info.classes[0] == "T-shirt/top" and train.info.classes[9] == "Ankle boot"


def test_without_a_root_the_debian_folder_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no data/ here
    assert len(build_dataset("fashion_mnist", "test")) == 10000


@pytest.mark.slow
@pytest.mark.parametrize("root", [None, str(SYSTEM)], ids=["no-root", "debian-root"])
def test_fashion_mnist_trains_from_the_debian_folder(tmp_path: Path, root: str | None) -> None:
    options = [f"data.options.root={root}"] if root else []
    result = cli("train", "--config", "plif_table2_fashion_mnist", "data.options.per_class=20", "data.options.test_per_class=10",
                 "data.options.time_steps=2", "model.options.fc_features=64", "trainer.max_epochs=1", "trainer.progress_bar=false",
                 "records.tensorboard=false", *options, "--out", str(tmp_path / "runs"))  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((only_run(tmp_path / "runs") / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["split_sizes"] == {"train": 200, "val": 0, "test": 100}

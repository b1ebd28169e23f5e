"""MNIST and Fashion-MNIST files found flat, in torchvision's layout or in the system's dataset folders, and checked by content."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data import build_dataset

from spikedyn.data.static import files as static_files
from spikedyn.data.static.files import IDX_FILES, RAW_SIZES
from tests.data.static_writers import LABELS_MAGIC, idx_bytes, random_set, write_mnist_files

EVERY_FILE = [name for names in IDX_FILES.values() for name in names]


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no data/, and system folders (under tmp_path) that are empty."""
    monkeypatch.chdir(tmp_path)
    system = tmp_path / "usr" / "share" / "datasets" / "fashion-mnist"
    monkeypatch.setitem(static_files.SYSTEM_FOLDERS, "Fashion-MNIST", (system,))
    return system


def test_a_flat_folder_of_the_four_files_is_a_root(tmp_path: Path) -> None:
    official = random_set(3, (28, 28))
    write_mnist_files(tmp_path / "flat", official)
    test = build_dataset("fashion_mnist", "test", root=str(tmp_path / "flat"), time_steps=1, normalize=False)
    assert np.array_equal((test[0][0][0, 0].numpy() * 255).round().astype(np.uint8), official.test_images[0])
    assert len(build_dataset("fashion_mnist", "train", root=str(tmp_path / "flat"), val_fraction=0.0)) == 40


def test_without_a_root_the_system_folder_is_found(nowhere: Path) -> None:
    official = random_set(4, (28, 28))
    write_mnist_files(nowhere, official, gzipped=True)
    test = build_dataset("fashion_mnist", "test", time_steps=1)
    assert np.array_equal(test.labels, official.test_labels)


def test_data_in_torchvisions_layout_comes_before_the_system_folder(nowhere: Path) -> None:
    write_mnist_files(nowhere, random_set(5, (28, 28)))
    here = random_set(6, (28, 28))
    write_mnist_files(Path("data") / "FashionMNIST" / "raw", here)
    assert np.array_equal(build_dataset("fashion_mnist", "test").labels, here.test_labels)


def test_a_folder_with_some_of_the_files_is_passed_over_and_every_missing_file_is_named(nowhere: Path) -> None:
    write_mnist_files(nowhere, random_set(7, (28, 28)))
    (nowhere / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as caught:
        build_dataset("fashion_mnist", "train")
    message = str(caught.value)
    assert f"{nowhere}: t10k-labels-idx1-ubyte.gz missing" in message
    assert f"{Path('data') / 'FashionMNIST' / 'raw'}: {', '.join(EVERY_FILE)} missing" in message
    assert "data.options.root=FOLDER" in message and "data.options.download=true" in message
    assert "apt-get install dataset-fashion-mnist" in message and "\n" not in message


def test_a_file_of_the_official_size_must_have_the_official_contents(tmp_path: Path) -> None:
    official = random_set(8, (28, 28))
    folder = write_mnist_files(tmp_path / "flat", official)
    count = (RAW_SIZES["train-labels-idx1-ubyte"] - 8)  # 60,000 labels: the official file's size, not its contents
    wrong = idx_bytes(np.arange(count) % 10, LABELS_MAGIC)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(wrong))
    with pytest.raises(ValueError, match=r"has the size of the official Fashion-MNIST train-labels-idx1-ubyte but not its contents"):
        build_dataset("fashion_mnist", "train", root=str(folder))


def test_per_class_keeps_the_first_images_of_each_class(tmp_path: Path) -> None:
    official = random_set(9, (28, 28), n_train=60, n_test=30)
    folder = write_mnist_files(tmp_path / "flat", official)
    train = build_dataset("fashion_mnist", "train", root=str(folder), per_class=4, val_fraction=0.25)
    val = build_dataset("fashion_mnist", "val", root=str(folder), per_class=4, val_fraction=0.25)
    test = build_dataset("fashion_mnist", "test", root=str(folder), test_per_class=2)
    kept = np.concatenate([np.flatnonzero(official.train_labels == c)[:4] for c in range(10)])
    assert sorted(np.concatenate([train.indices, val.indices]).tolist()) == sorted(kept.tolist())
    assert np.bincount(val.labels, minlength=10).tolist() == [1] * 10
    assert sorted(test.indices.tolist()) == sorted(np.concatenate([np.flatnonzero(official.test_labels == c)[:2] for c in range(10)]).tolist())
    with pytest.raises(ValueError, match="per_class must be an int >= 1"):
        build_dataset("fashion_mnist", "train", root=str(folder), per_class=0)

import itertools
import math
import pickle
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from spikedyn.data.static import files as static_files
from spikedyn.data.augment import (
    Compose,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
)
from spikedyn.data.registry import build_dataset, dataset_options, list_datasets
from spikedyn.data.static.images import StaticImageDataset, load_static
from spikedyn.data.static.files import read_cifar_batch
from tests.data.static_writers import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    MNIST_NAMES,
    Official,
    cifar_batch_bytes,
    idx_bytes,
    random_set,
    write_cifar_archive,
    write_cifar_batches,
    write_gzip,
    write_mnist_files,
    write_tar_gz,
)

mnist = partial(build_dataset, "mnist")
fashion_mnist = partial(build_dataset, "fashion_mnist")
cifar10 = partial(build_dataset, "cifar10")

IDX_NAMES = MNIST_NAMES["train"] + MNIST_NAMES["test"]


@pytest.fixture
def mnist_files(tmp_path):
    official = random_set(0, (28, 28))
    write_mnist_files(tmp_path / "MNIST" / "raw", official)
    return tmp_path, official


@pytest.fixture
def cifar_files(tmp_path):
    official = random_set(1, (3, 32, 32))
    write_cifar_batches(tmp_path / "CIFAR10", official)
    return tmp_path, official


def unnormalised(dataset: StaticImageDataset, frames: torch.Tensor) -> np.ndarray:
    """Frames back to uint8 pixels: x * std + mean on the [0, 1] scale, times 255."""
    mean = torch.tensor(dataset.mean, dtype=torch.float64)[:, None, None]
    std = torch.tensor(dataset.std, dtype=torch.float64)[:, None, None]
    pixels = (frames.double() * std + mean) * 255
    assert (pixels - pixels.round()).abs().max() < 1e-3
    return pixels.round().to(torch.uint8).numpy()


def check_samples(dataset: StaticImageDataset, images: np.ndarray, labels: np.ndarray, time_steps: int) -> None:
    """Every sample is the original image at every step, and carries its label."""
    channels, height, width = dataset.info.frame_shape
    for i in range(len(dataset)):
        frames, label = dataset[i]
        assert frames.shape == (time_steps, channels, height, width) and frames.dtype == torch.float32
        assert time_steps == 1 or frames.stride(0) == 0  # expanded over T, not copied
        original = images[dataset.indices[i]].reshape(channels, height, width)
        np.testing.assert_array_equal(unnormalised(dataset, frames[-1]), original)
        assert label == labels[dataset.indices[i]]


def test_mnist_samples_are_the_official_images_repeated_over_time_with_their_labels(mnist_files):
    root, official = mnist_files
    for split in ("train", "val"):
        check_samples(mnist(split, root=root, time_steps=3, augment=False), official.train_images, official.train_labels, 3)
    test = mnist("test", root=root, time_steps=3)
    check_samples(test, official.test_images, official.test_labels, 3)
    np.testing.assert_array_equal(test.indices, np.arange(len(official.test_labels)))
    assert test.info.name == "mnist" and test.info.num_classes == 10 and test.info.frame_shape == (1, 28, 28)
    assert test.info.time_steps == 3 and len(test.info.classes) == 10


def test_without_normalisation_samples_are_the_pixels_over_255(cifar_files):
    root, official = cifar_files
    test = cifar10("test", root=root, time_steps=2, normalize=False)
    for i in range(len(test)):
        expected = torch.from_numpy(official.test_images[i].reshape(3, 32, 32).astype(np.float32) / 255)
        assert torch.equal(test[i][0][1], expected)


def test_cifar10_samples_are_the_batches_in_order(cifar_files):
    root, official = cifar_files
    train = cifar10("train", root=root, time_steps=2, augment=False)
    check_samples(train, official.train_images, official.train_labels, 2)
    check_samples(cifar10("test", root=root, time_steps=2), official.test_images, official.test_labels, 2)
    assert train.info.frame_shape == (3, 32, 32) and train.info.classes[0] == "airplane"


def test_normalisation_is_that_of_the_train_split_for_every_split(cifar_files):
    root, official = cifar_files
    train = cifar10("train", root=root, time_steps=1, augment=False)
    pixels = official.train_images[train.indices].astype(np.float64) / 255
    np.testing.assert_allclose(train.mean, pixels.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(train.std, pixels.std(axis=(0, 2, 3)), rtol=1e-12)
    frames = torch.stack([train[i][0][0] for i in range(len(train))]).double()
    torch.testing.assert_close(frames.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(frames.std(dim=(0, 2, 3), unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-6, rtol=0)
    for split in ("val", "test"):
        other = cifar10(split, root=root, time_steps=1)
        assert other.mean == train.mean and other.std == train.std


def test_val_and_train_divide_the_official_training_set_per_class(mnist_files):
    root, official = mnist_files
    train, val = mnist("train", root=root), mnist("val", root=root)
    assert not set(train.indices) & set(val.indices)
    np.testing.assert_array_equal(np.sort(np.concatenate([train.indices, val.indices])), np.arange(len(official.train_labels)))
    # 4 images per class, 15% held out: round(0.6) = 1 of each class in val
    np.testing.assert_array_equal(np.bincount(val.labels, minlength=10), np.ones(10))
    np.testing.assert_array_equal(mnist("val", root=root).indices, val.indices)
    assert not np.array_equal(mnist("val", root=root, split_seed=1).indices, val.indices)
    assert len(mnist("val", root=root, val_fraction=0.5).indices) == 20


def test_fashion_mnist_reads_its_own_folder_and_is_never_augmented(tmp_path):
    official = random_set(2, (28, 28))
    write_mnist_files(tmp_path / "FashionMNIST" / "raw", official)
    train = fashion_mnist("train", root=tmp_path, augment=True)
    assert train.augmentation is None and train.info.classes[-1] == "Ankle boot"
    check_samples(train, official.train_images, official.train_labels, 8)
    with pytest.raises(FileNotFoundError):
        mnist("train", root=tmp_path)


def test_decompressed_idx_files_as_torchvision_leaves_them_are_read(tmp_path):
    official = random_set(3, (28, 28))
    write_mnist_files(tmp_path / "MNIST" / "raw", official, gzipped=False)
    images, labels = load_static("mnist", tmp_path, "test")
    np.testing.assert_array_equal(images[:, 0], official.test_images)
    np.testing.assert_array_equal(labels, official.test_labels)


def test_only_the_train_split_is_augmented_and_every_step_sees_the_same_image(mnist_files, cifar_files):
    root, _ = mnist_files
    train = mnist("train", root=root, time_steps=4)
    assert isinstance(train.augmentation, RandomAffine)
    for split in ("val", "test"):
        assert all(mnist(split, root=root, augment=choice).augmentation is None for choice in ("code", "text"))
    assert mnist("val", root=root).augmentation is None and mnist("test", root=root).augmentation is None
    plain = mnist("train", root=root, time_steps=4, augment=False)
    torch.manual_seed(0)
    changed = 0
    for i in range(10):
        frames = train[i][0]
        assert all(torch.equal(frames[0], frames[t]) for t in range(4))
        changed += not torch.equal(frames, plain[i][0])
    assert changed > 0
    cifar = cifar10("train", root=cifar_files[0])
    assert isinstance(cifar.augmentation, Compose)
    assert [type(t) for t in cifar.augmentation.transforms] == [RandomCrop, RandomHorizontalFlip]
    assert cifar[0][0].shape == (8, 3, 32, 32)


def test_mnist_code_augmentation_is_the_plif_codes_random_affine(mnist_files):
    root, _ = mnist_files
    for augment in ("code", True):  # the default, and True as its alias
        affine = mnist("train", root=root, augment=augment).augmentation
        assert isinstance(affine, RandomAffine)
        assert affine.degrees == (-30.0, 30.0) and affine.translate == (0.15, 0.15) and affine.scale == (0.85, 1.11)
        assert affine.shear == (0.0, 0.0) and affine.mode == "nearest"
    assert isinstance(mnist("train", root=root).augmentation, RandomAffine)
    image = torch.rand(1, 28, 28)
    torch.manual_seed(0)
    for _ in range(10):  # nearest resampling: pixels are moved, never blended; zeros come in from outside
        out = affine(image)
        assert set(out.unique().tolist()) <= set(image.unique().tolist()) | {0.0}


def test_the_text_augmentation_crops_with_padding_four_and_flips(mnist_files, cifar_files):
    for dataset, root, size in ((mnist, mnist_files[0], 28), (cifar10, cifar_files[0], 32)):
        train = dataset("train", root=root, augment="text")
        assert isinstance(train.augmentation, Compose)
        crop, flip = train.augmentation.transforms
        assert isinstance(crop, RandomCrop) and crop.size == (size, size) and crop.padding == 4
        assert isinstance(flip, RandomHorizontalFlip) and flip.p == 0.5
    torch.manual_seed(0)
    image = torch.rand(1, 28, 28) + 1  # no zeros of its own
    padded = torch.nn.functional.pad(image, (4, 4, 4, 4))
    mirror = torch.flip(padded, dims=(-1,))
    augmentation = mnist("train", root=mnist_files[0], augment="text").augmentation
    seen = set()
    for _ in range(60):
        out = augmentation(image)
        found = [
            (top, left, mirrored)
            for top, left, mirrored in itertools.product(range(9), range(9), (False, True))
            if torch.equal(out, (mirror if mirrored else padded)[..., top : top + 28, left : left + 28])
        ]
        assert found, "every output is a 28x28 window of the zero-padded image, mirrored or not"
        seen |= set(found)
    assert {mirrored for _, _, mirrored in seen} == {False, True}
    assert len({(top, left) for top, left, _ in seen}) > 10


def test_cifar10_code_augmentation_is_a_crop_with_padding_four_and_a_flip(cifar_files):
    crop, flip = cifar10("train", root=cifar_files[0], augment="code").augmentation.transforms
    assert isinstance(crop, RandomCrop) and crop.size == (32, 32) and crop.padding == 4 and isinstance(flip, RandomHorizontalFlip)


@pytest.mark.parametrize("augment", ["code", "text", "none", True, False])
def test_fashion_mnist_is_never_augmented(tmp_path, augment):
    write_mnist_files(tmp_path / "FashionMNIST" / "raw", random_set(2, (28, 28)))
    assert fashion_mnist("train", root=tmp_path, augment=augment).augmentation is None


def test_augment_none_and_false_turn_it_off(mnist_files, cifar_files):
    for augment in ("none", False):
        assert mnist("train", root=mnist_files[0], augment=augment).augmentation is None
        assert cifar10("train", root=cifar_files[0], augment=augment).augmentation is None


def test_an_unknown_augment_value_names_the_choices(mnist_files):
    with pytest.raises(ValueError, match=r"augment='paper' is not known; expected one of \['code', 'text', 'none'\]"):
        mnist("train", root=mnist_files[0], augment="paper")


def test_split_seed_none_splits_each_class_in_file_order_as_the_plif_code(mnist_files):
    root, official = mnist_files  # 4 images per class
    train = mnist("train", root=root, split_seed=None, augment=False)
    val = mnist("val", root=root, split_seed=None)
    for cls in range(10):
        members = np.flatnonzero(official.train_labels == cls)
        keep = math.ceil(len(members) * 0.85)  # ceil(3.4) = 4: the PLIF code keeps all 4 for training
        np.testing.assert_array_equal(train.indices[train.labels == cls], members[:keep])
        np.testing.assert_array_equal(val.indices[val.labels == cls], members[keep:])
    half = mnist("val", root=root, split_seed=None, val_fraction=0.5)
    np.testing.assert_array_equal(np.bincount(half.labels, minlength=10), np.full(10, 2))
    check_samples(train, official.train_images, official.train_labels, 8)


def test_val_fraction_zero_trains_on_the_whole_training_set_and_leaves_val_empty(mnist_files):
    root, official = mnist_files
    for seed in (0, None):
        train = mnist("train", root=root, val_fraction=0.0, split_seed=seed, augment=False)
        val = mnist("val", root=root, val_fraction=0.0, split_seed=seed)
        np.testing.assert_array_equal(train.indices, np.arange(len(official.train_labels)))
        assert len(val) == 0 and val.info.frame_shape == (1, 28, 28)
        assert val.mean == train.mean  # normalised with the (whole) training set's statistics
        assert len(torch.utils.data.DataLoader(val, batch_size=4)) == 0


def test_the_datasets_are_registered_with_the_documented_options(mnist_files):
    assert {"mnist", "fashion_mnist", "cifar10"} <= set(list_datasets())
    assert dataset_options("cifar10") == ["root", "time_steps", "download", "augment", "val_fraction", "split_seed", "normalize", "per_class", "test_per_class"]
    root, _ = mnist_files
    dataset = build_dataset("mnist", "val", root=str(root), time_steps=2)
    assert isinstance(dataset, StaticImageDataset) and dataset[0][0].shape == (2, 1, 28, 28)


def test_statistics_follow_the_files_when_they_change(tmp_path):
    write_mnist_files(tmp_path / "MNIST" / "raw", random_set(4, (28, 28)))
    before = mnist("test", root=tmp_path).mean
    same = random_set(4, (28, 28))
    write_mnist_files(tmp_path / "MNIST" / "raw", Official(same.train_images // 2, same.train_labels, same.test_images, same.test_labels))
    assert mnist("test", root=tmp_path).mean != before


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"time_steps": 0}, ValueError),
        ({"time_steps": 2.0}, TypeError),
        ({"augment": "yes"}, ValueError),
        ({"augment": 1}, TypeError),
        ({"download": 1}, TypeError),
        ({"split_seed": "0"}, TypeError),
    ],
)
def test_bad_options_are_refused(mnist_files, bad, error):
    with pytest.raises(error, match=next(iter(bad))):
        mnist("train", root=mnist_files[0], **bad)


def test_an_unknown_split_is_refused(mnist_files):
    with pytest.raises(ValueError, match="split"):
        mnist("training", root=mnist_files[0])


# --- damaged and missing files -----------------------------------------------------------------------------


def test_a_truncated_gzip_names_the_file(mnist_files):
    root, _ = mnist_files
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        mnist("train", root=root)


def test_a_file_that_is_not_gzip_names_the_file(mnist_files):
    root, _ = mnist_files
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz"):
        mnist("test", root=root)


def test_a_bad_magic_number_names_the_file_and_the_expected_magic(mnist_files):
    root, official = mnist_files
    # the labels where the images belong
    write_gzip(root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz", idx_bytes(official.train_labels, LABELS_MAGIC))
    with pytest.raises(ValueError, match=rf"train-images-idx3-ubyte.gz has magic number {LABELS_MAGIC}, expected {IMAGES_MAGIC}"):
        mnist("train", root=root)


def test_a_size_that_disagrees_with_the_header_names_the_file(mnist_files):
    root, official = mnist_files
    data = idx_bytes(official.test_images, IMAGES_MAGIC)
    write_gzip(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz", data[:-28])  # a complete gzip of too few bytes
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz holds"):
        mnist("test", root=root)


def test_images_of_the_wrong_size_or_labels_out_of_range_are_refused(mnist_files):
    root, official = mnist_files
    raw = root / "MNIST" / "raw"
    write_gzip(raw / "t10k-labels-idx1-ubyte.gz", idx_bytes(official.test_labels + 10, LABELS_MAGIC))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz has labels"):
        mnist("test", root=root)
    write_gzip(raw / "t10k-images-idx3-ubyte.gz", idx_bytes(official.test_images[:, :27], IMAGES_MAGIC))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz holds images of 27x28"):
        mnist("test", root=root)


def test_a_broken_pickle_names_the_batch(cifar_files):
    root, _ = cifar_files
    batch = root / "CIFAR10" / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(ValueError, match="data_batch_3"):
        cifar10("train", root=root)


# Protocol 2 names globals as plain text lines, so numpy 1's module names (numpy.core) can be swapped in.
@pytest.mark.parametrize("protocol, numpy_module", [(2, b"numpy._core"), (2, b"numpy.core"), (4, b"numpy._core"), (5, b"numpy._core")])
def test_batches_pickled_by_either_numpy_with_any_protocol_are_read(tmp_path, protocol, numpy_module):
    official = random_set(9, (3, 32, 32), n_train=0)
    data = cifar_batch_bytes(official.test_images, official.test_labels, protocol)
    (tmp_path / "test_batch").write_bytes(data.replace(b"numpy._core", numpy_module))
    images, labels = read_cifar_batch(tmp_path / "test_batch")
    np.testing.assert_array_equal(images, official.test_images)
    np.testing.assert_array_equal(labels, official.test_labels)


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(b"cos\nsystem\n(S'echo unsafe'\ntR.")
    with pytest.raises(ValueError, match="os.system"):
        read_cifar_batch(path)


def test_a_batch_with_the_wrong_columns_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match="test_batch"):
        read_cifar_batch(path)


def test_missing_files_say_what_to_put_where(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    with pytest.raises(FileNotFoundError) as caught:
        mnist("train", root=tmp_path)
    message = str(caught.value)
    assert str(raw) in message and "train-images-idx3-ubyte.gz" in message and "download=True" in message
    with pytest.raises(FileNotFoundError) as caught:
        cifar10("test", root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "CIFAR10") in message and "cifar-10-python.tar.gz" in message and "download=True" in message


# --- the CIFAR-10 archive and downloads ----------------------------------------------------------------------


def test_the_cifar_archive_is_unpacked_when_the_batches_are_missing(tmp_path):
    official = random_set(5, (3, 32, 32))
    write_cifar_archive(tmp_path / "CIFAR10" / "cifar-10-python.tar.gz", official)
    check_samples(cifar10("test", root=tmp_path, time_steps=1), official.test_images, official.test_labels, 1)
    assert sorted(p.name for p in (tmp_path / "CIFAR10" / "cifar-10-batches-py").iterdir()) == sorted(
        [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    )
    assert sorted(p.name for p in (tmp_path / "CIFAR10").iterdir()) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_an_archive_member_that_escapes_the_folder_is_refused(tmp_path):
    write_tar_gz(tmp_path / "CIFAR10" / "cifar-10-python.tar.gz", {"../escaped": b"x"})
    with pytest.raises(ValueError, match="cifar-10-python.tar.gz"):
        cifar10("train", root=tmp_path)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "CIFAR10" / "escaped").exists()


def test_download_fetches_only_the_missing_files_from_the_mirrors(tmp_path, monkeypatch):
    source = tmp_path / "published"
    official = random_set(6, (28, 28))
    write_mnist_files(source, official)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_NAMES["train"]:
        shutil.copy(source / name, raw / name)
    calls = []

    def fake_fetch(urls, destination, md5):
        calls.append((list(urls), Path(destination), md5))
        return Path(shutil.copy(source / Path(destination).name, destination))

    monkeypatch.setattr(static_files, "fetch", fake_fetch)
    test = mnist("test", root=tmp_path / "data", download=True)
    check_samples(test, official.test_images, official.test_labels, 8)
    assert [destination for _, destination, _ in calls] == [raw / name for name in MNIST_NAMES["test"]]
    urls, _, md5 = calls[0]
    assert urls == [
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
    ]
    assert md5 == "9fb629c4189551a2d022fa330f9573f3"
    calls.clear()
    mnist("train", root=tmp_path / "data", download=True)
    assert calls == []


def test_download_fetches_and_unpacks_the_cifar_archive(tmp_path, monkeypatch):
    official = random_set(7, (3, 32, 32))
    calls = []

    def fake_fetch(urls, destination, md5):
        calls.append((list(urls), md5))
        return write_cifar_archive(Path(destination), official)

    monkeypatch.setattr(static_files, "fetch", fake_fetch)
    train = cifar10("train", root=tmp_path, download=True, augment=False)
    check_samples(train, official.train_images, official.train_labels, 8)
    assert calls == [(["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"], "c58f30108f718f92721af3b95e74349a")]


def test_fashion_mnist_downloads_from_its_mirror(tmp_path, monkeypatch):
    source = tmp_path / "published"
    write_mnist_files(source, random_set(8, (28, 28)))
    fetched = {}

    def fake_fetch(urls, destination, md5):
        fetched[Path(destination).name] = (list(urls), md5)
        Path(destination).parent.mkdir(parents=True, exist_ok=True)  # as fetch does
        return Path(shutil.copy(source / Path(destination).name, destination))

    monkeypatch.setattr(static_files, "fetch", fake_fetch)
    fashion_mnist("test", root=tmp_path / "data", download=True)
    assert sorted(fetched) == sorted(IDX_NAMES)
    assert fetched["train-labels-idx1-ubyte.gz"] == (
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz"],
        "25c81989df183df01b3e8a0aad5dffbe",
    )


"""Each neuromorphic dataset read from small files in its real format and folder layout."""

from pathlib import Path

import numpy as np
import pytest
import torch

from spikedyn.data import build_dataset, events_to_frames
from spikedyn.data.augment import NeuromorphicAugment, RandomHorizontalFlip
from spikedyn.data.events.spikformer_augment import IMP_NCALTECH101_CONFIG_SPACE, SPIKFORMER_DVS_SPACE, SpikformerDVSAugment
from tests.data.event_files import write_aedat4, write_bin, write_dvsgesture_npy
from tests.data.events import random_events


def _nmnist(root: Path, per_class: int = 4) -> dict:
    written = {}
    for part, count in (("Train", per_class), ("Test", 2)):
        for digit in range(10):
            for n in range(count):
                events = random_events(200 + 10 * n, 34, 34, seed=digit * 100 + n + (500 if part == "Test" else 0))
                path = root / "NMNIST" / part / str(digit) / f"{n:05d}.bin"
                write_bin(path, events)
                written[path] = (events, digit)
    return written


def test_nmnist_frames_are_eq_s1_of_the_files_and_labels_come_from_folders(tmp_path):
    written = _nmnist(tmp_path)
    test = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=5, cache=False)
    assert len(test) == 20 and test.info.frame_shape == (2, 34, 34) and test.info.num_classes == 10
    for index, path in enumerate(test.files):
        events, digit = written[path]
        frames, label = test[index]
        assert label == digit and frames.dtype == torch.float32 and frames.shape == (5, 2, 34, 34)
        np.testing.assert_array_equal(frames.numpy(), events_to_frames(events, (34, 34, 2), 5))


def test_validation_is_carved_per_class_from_train_and_never_touches_test(tmp_path):
    _nmnist(tmp_path, per_class=20)
    parts = {split: build_dataset("nmnist", split, root=str(tmp_path), time_steps=2, cache=False) for split in ("train", "val", "test")}
    assert len(parts["val"]) == 30 and len(parts["train"]) == 170  # 15% of 20 per class = 3
    assert np.bincount(parts["val"].labels).tolist() == [3] * 10
    train, val, test = (set(parts[s].files) for s in ("train", "val", "test"))
    assert not train & val and not (train | val) & test
    again = build_dataset("nmnist", "val", root=str(tmp_path), time_steps=2, cache=False)
    assert again.files == parts["val"].files
    other = build_dataset("nmnist", "val", root=str(tmp_path), time_steps=2, cache=False, split_seed=1)
    assert other.files != parts["val"].files


def test_cifar10dvs_takes_the_first_ninety_percent_of_each_class_for_training(tmp_path):
    from tonic.datasets import CIFAR10DVS

    for name, label in CIFAR10DVS.classes.items():
        for n in range(10):  # written out of order so that sorting by the number matters
            n = (n * 7) % 10
            write_aedat4(tmp_path / "CIFAR10DVS" / name / f"cifar10_{name}_{n}.aedat4", random_events(50, 128, 128, seed=label * 10 + n))
    train = build_dataset("cifar10dvs", "train", root=str(tmp_path), time_steps=4, val_fraction=0.0, cache=False)
    test = build_dataset("cifar10dvs", "test", root=str(tmp_path), time_steps=4, cache=False)
    assert len(train) == 90 and len(test) == 10
    assert sorted(p.stem.rsplit("_", 1)[1] for p in test.files) == ["9"] * 10
    assert [int(train.files[i].stem.rsplit("_", 1)[1]) for i in range(9)] == list(range(9))
    frames, label = test[3]
    expected = events_to_frames(random_events(50, 128, 128, seed=label * 10 + 9), (128, 128, 2), 4)
    np.testing.assert_array_equal(frames.numpy(), expected)
    assert test.info.classes[label] == test.files[3].parent.name


def _cifar10dvs(root: Path, per_class: int = 10) -> None:
    from tonic.datasets import CIFAR10DVS

    for name, label in CIFAR10DVS.classes.items():
        for n in range(per_class):
            write_aedat4(root / "CIFAR10DVS" / name / f"cifar10_{name}_{n}.aedat4", random_events(20, 128, 128, seed=label * 100 + n))


def _numbers(dataset) -> list[int]:
    return sorted({int(p.stem.rsplit("_", 1)[1]) for p in dataset.files})


def test_cifar10dvs_test_part_first_tests_on_the_first_files_as_the_imp_code(tmp_path):
    _cifar10dvs(tmp_path, per_class=20)
    options = dict(root=str(tmp_path), time_steps=2, cache=False, val_fraction=0.0)
    last = {split: build_dataset("cifar10dvs", split, **options) for split in ("train", "test")}
    first = {split: build_dataset("cifar10dvs", split, test_part="first", **options) for split in ("train", "test")}
    # 20 files per class, 90% train: the PLIF paper tests on numbers 18, 19; the IMP code on 0, 1
    assert _numbers(last["test"]) == [18, 19] and _numbers(last["train"]) == list(range(18))
    assert _numbers(first["test"]) == [0, 1] and _numbers(first["train"]) == list(range(2, 20))
    for part in (last, first):
        assert len(part["train"]) == 180 and len(part["test"]) == 20
        assert np.bincount(part["test"].labels).tolist() == [2] * 10
        assert not set(part["train"].files) & set(part["test"].files)
    val = build_dataset("cifar10dvs", "val", **{**options, "val_fraction": 0.5}, test_part="first")
    assert not set(val.files) & set(first["test"].files)
    with pytest.raises(ValueError, match=r"test_part='both' is not known; expected one of \['last', 'first'\]"):
        build_dataset("cifar10dvs", "train", test_part="both", **options)


def test_split_seed_none_validates_on_the_last_files_of_each_class_in_order(tmp_path):
    _nmnist(tmp_path, per_class=7)
    options = dict(root=str(tmp_path), time_steps=2, cache=False, split_seed=None)
    train, val = (build_dataset("nmnist", split, **options) for split in ("train", "val"))
    # ceil(7 * 0.85) = ceil(5.95) = 6 train, the 7th (00006.bin) validates
    assert {p.name for p in val.files} == {"00006.bin"} and len(val) == 10
    assert len(train) == 60 and not set(train.files) & set(val.files)


@pytest.mark.parametrize("seed", [0, None])
def test_val_fraction_zero_trains_on_everything_and_leaves_val_empty(tmp_path, seed):
    _nmnist(tmp_path, per_class=3)
    _cifar10dvs(tmp_path, per_class=10)
    for name, train_size in (("nmnist", 30), ("cifar10dvs", 90)):
        options = dict(root=str(tmp_path), time_steps=2, val_fraction=0.0, split_seed=seed)
        assert len(build_dataset(name, "train", cache=False, **options)) == train_size
        val = build_dataset(name, "val", **options)
        assert len(val) == 0 and val.prepare_cache() == 0
        assert len(torch.utils.data.DataLoader(val, batch_size=2)) == 0


def test_dvs128_gesture_reads_tonic_npy_files_in_microseconds(tmp_path):
    for user in (1, 2):
        for label in range(11):
            events = random_events(300, 128, 128, seed=user * 11 + label)
            events["t"] = events["t"] // 1000 * 1000  # the files keep milliseconds
            write_dvsgesture_npy(tmp_path / "DVSGesture" / "ibmGestureTrain" / f"user{user:02d}_led" / f"{label}.npy", events)
            write_dvsgesture_npy(tmp_path / "DVSGesture" / "ibmGestureTest" / f"user{user + 20:02d}_led" / f"{label}.npy", events)
    test = build_dataset("dvs128_gesture", "test", root=str(tmp_path), time_steps=3, split_by="time", cache=False)
    assert len(test) == 22 and test.info.num_classes == 11 and sorted(test.labels.tolist()) == sorted(list(range(11)) * 2)
    events = test.read(test.files[0])
    assert events["t"].max() > 1000  # milliseconds became microseconds
    frames, _ = test[0]
    np.testing.assert_array_equal(frames.numpy(), events_to_frames(events, (128, 128, 2), 3, split_by="time"))


def test_ncaltech101_has_integer_labels_a_per_class_split_and_48x48_frames(tmp_path):
    for label, name in enumerate(["Faces_easy", "BACKGROUND_Google", "airplanes"]):
        for n in range(1, 11):
            events = random_events(100, 200, 150, seed=label * 100 + n)
            events["x"] += 20  # recordings sit away from the origin; tonic shifts them back
            write_bin(tmp_path / "NCALTECH101" / "Caltech101" / name / f"image_{n:04d}.bin", events)
    train = build_dataset("ncaltech101", "train", root=str(tmp_path), val_fraction=0.0, train_fraction=0.8, cache=False, time_steps=2)
    test = build_dataset("ncaltech101", "test", root=str(tmp_path), train_fraction=0.8, cache=False, time_steps=2)
    assert train.info.classes == ("BACKGROUND_Google", "Faces_easy", "airplanes") and train.info.num_classes == 3
    assert len(train) == 24 and len(test) == 6 and test.labels.dtype == np.int64
    assert {p.name for p in test.files} == {"image_0009.bin", "image_0010.bin"}
    frames, _ = test[0]
    assert frames.shape == (2, 2, 48, 48)
    events = test.read(test.files[0])
    assert events["x"].min() == 0 and events["y"].min() == 0
    # antialiased bilinear resizing averages: the total scales with the area, 48*48 / (180*240)
    assert frames.sum().item() == pytest.approx(100 * 48 * 48 / (180 * 240), rel=0.02)


def test_the_frame_cache_serves_the_same_frames_and_is_reused(tmp_path):
    _nmnist(tmp_path, per_class=1)
    cached = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=4)
    plain = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=4, cache=False)
    assert cached.prepare_cache() == 20
    assert cached.prepare_cache() == 0
    for index in range(len(cached)):
        torch.testing.assert_close(cached[index][0], plain[index][0])
    other = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=5)
    assert other.cache.folder != cached.cache.folder and other.prepare_cache() == 20


def test_prepare_cache_in_worker_processes(tmp_path):
    _nmnist(tmp_path, per_class=1)
    dataset = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=4)
    assert dataset.prepare_cache(num_workers=2) == 20
    assert all(dataset.entry(i) in dataset.cache for i in range(len(dataset)))


@pytest.mark.parametrize("name, folder", [("nmnist", "NMNIST"), ("cifar10dvs", "CIFAR10DVS"), ("dvs128_gesture", "DVSGesture"), ("ncaltech101", "NCALTECH101")])
def test_a_missing_dataset_says_where_to_put_which_files(tmp_path, name, folder):
    with pytest.raises(FileNotFoundError, match=rf"{name} was not found under .*{folder}: expected .* download=True"):
        build_dataset(name, "train", root=str(tmp_path))


def test_download_goes_through_tonic(tmp_path, monkeypatch):
    import tonic.datasets

    calls = []

    def fake_init(self, save_to, train=True, **kwargs):
        calls.append((save_to, train))
        _nmnist(Path(save_to), per_class=1)

    monkeypatch.setattr(tonic.datasets.NMNIST, "__init__", fake_init)
    dataset = build_dataset("nmnist", "test", root=str(tmp_path), download=True, cache=False)
    assert calls == [(str(tmp_path), False)] and len(dataset) == 20


def test_truncated_and_corrupt_files_are_named(tmp_path):
    _nmnist(tmp_path, per_class=1)
    dataset = build_dataset("nmnist", "test", root=str(tmp_path), cache=False)
    damaged = dataset.files[0]
    damaged.write_bytes(damaged.read_bytes()[:-2])
    with pytest.raises(ValueError, match=rf"cannot read event file {damaged}.*truncated"):
        dataset[0]
    aedat = tmp_path / "CIFAR10DVS" / "airplane" / "cifar10_airplane_0.aedat4"
    write_aedat4(aedat, random_events(20, 128, 128))
    aedat.write_bytes(aedat.read_bytes()[:40])
    cifar = build_dataset("cifar10dvs", "test", root=str(tmp_path), train_fraction=0.5, cache=False)
    with pytest.raises(ValueError, match=rf"cannot read event file {aedat}"):
        cifar.read(aedat)
    gesture = tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led" / "3.npy"
    gesture.parent.mkdir(parents=True)
    gesture.write_bytes(b"\x93NUMPY garbage")
    dvs = build_dataset("dvs128_gesture", "test", root=str(tmp_path), cache=False)
    with pytest.raises(ValueError, match=rf"cannot read event file {gesture}"):
        dvs[0]


def test_events_outside_the_sensor_name_the_file(tmp_path):
    events = random_events(30, 34, 34)
    events["x"][5] = 40
    write_bin(tmp_path / "NMNIST" / "Test" / "3" / "00000.bin", events)
    dataset = build_dataset("nmnist", "test", root=str(tmp_path), cache=False)
    with pytest.raises(ValueError, match=r"00000.bin.*field x spans"):
        dataset[0]


def test_augmentation_applies_to_the_training_split_only(tmp_path):
    _nmnist(tmp_path, per_class=2)
    options = dict(root=str(tmp_path), time_steps=3, cache=False, flip=True, crop_padding=4, nda=True, val_fraction=0.5)
    train = build_dataset("nmnist", "train", **options)
    plain = build_dataset("nmnist", "train", **{**options, "flip": False, "crop_padding": 0, "nda": False})
    assert train.files == plain.files
    torch.manual_seed(0)
    augmented = [train[i][0] for i in range(len(train))]
    assert all(a.shape == (3, 2, 34, 34) for a in augmented)
    assert any(not torch.equal(a, plain[i][0]) for i, a in enumerate(augmented))
    for split in ("val", "test"):
        assert build_dataset("nmnist", split, **options).transform is None


def test_nda_imp_ncaltech101_is_the_imp_codes_op_after_the_flip(tmp_path):
    _nmnist(tmp_path, per_class=1)
    options = dict(root=str(tmp_path), time_steps=3, cache=False, val_fraction=0.0, flip=True)
    train = build_dataset("nmnist", "train", nda="imp_ncaltech101", **options)
    flip, augment = train.transform.transforms
    assert isinstance(flip, RandomHorizontalFlip) and isinstance(augment, SpikformerDVSAugment)
    assert augment.space == SPIKFORMER_DVS_SPACE and augment.mode == "nearest"
    configured = build_dataset("nmnist", "train", nda="imp_ncaltech101_as_configured", **options).transform.transforms[-1]
    assert configured.space == IMP_NCALTECH101_CONFIG_SPACE
    assert isinstance(build_dataset("nmnist", "train", nda=True, **options).transform.transforms[-1], NeuromorphicAugment)
    assert build_dataset("nmnist", "test", nda="imp_ncaltech101", **options).transform is None
    torch.manual_seed(0)
    assert all(train[i][0].shape == (3, 2, 34, 34) for i in range(len(train)))


def test_an_unknown_nda_names_the_choices_for_every_split(tmp_path):
    _nmnist(tmp_path, per_class=1)
    for split in ("train", "test"):
        with pytest.raises(ValueError, match=r"nda='trivial' is not known; expected True, False or one of \['imp_ncaltech101'"):
            build_dataset("nmnist", split, root=str(tmp_path), cache=False, nda="trivial")

"""The "event_digits" folder: the digits through the simulated camera, stored like N-MNIST."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tonic

from spikedyn.data import build_dataset
from spikedyn.data.static.digits import digit_images, digits_split, upscale_images
from spikedyn.data.events.camera import simulate_saccades
from spikedyn.data.events.digits import (
    ensure_event_digits,
    event_digits_files,
    event_digits_parameters,
)
from spikedyn.data.events.nmnist_format import NMNIST_DTYPE

# --- event_digits ------------------------------------------------------------------------------------

LIMIT = 12


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("event_digits")
    return root, ensure_event_digits(root, limit=LIMIT)


def test_generation_lays_the_digits_out_like_nmnist(generated):
    root, folder = generated
    labels = digit_images()[1]
    test = set(digits_split("test", 0).tolist())
    files = sorted(folder.glob("*/*/*.bin"))
    assert len(files) == LIMIT
    for path in files:
        index = int(path.stem)
        assert path.parent.parent.name == ("Test" if index in test else "Train")
        assert int(path.parent.name[-1]) == labels[index]  # tonic's NMNIST takes the label from the folder's last char
    marker = json.loads((folder / "complete.json").read_text())
    assert marker["parameters"]["limit"] == LIMIT and marker["parameters"]["sensor"] == [34, 34]
    assert event_digits_parameters(root) == marker["parameters"]


def test_stored_files_are_the_simulated_digits(generated):
    root, _ = generated
    paths, _ = event_digits_files(root, "train")
    index = int(paths[0].stem)
    expected = simulate_saccades(upscale_images(digit_images()[0][index : index + 1], 3))[0]
    np.testing.assert_array_equal(tonic.io.read_mnist_file(str(paths[0]), dtype=NMNIST_DTYPE), expected)


def test_val_fraction_zero_leaves_val_empty(generated):
    root, _ = generated
    paths, labels = event_digits_files(root, "val", val_fraction=0.0)
    assert paths == [] and len(labels) == 0
    test = set(digits_split("test", 0).tolist())
    train, _ = event_digits_files(root, "train", val_fraction=0.0)
    assert [int(p.stem) for p in train] == [i for i in range(LIMIT) if i not in test]
    val = build_dataset("event_digits", "val", root=str(root), limit=LIMIT, val_fraction=0.0)
    assert len(val) == 0 and val.prepare_cache() == 0


def test_split_files_cover_the_generated_digits_once(generated):
    root, _ = generated
    labels = digit_images()[1]
    seen = []
    for split in ("train", "val", "test"):
        paths, split_labels = event_digits_files(root, split)
        assert all(p.exists() for p in paths)
        indices = [int(p.stem) for p in paths]
        np.testing.assert_array_equal(split_labels, labels[indices])
        assert indices == [i for i in digits_split(split, 0).tolist() if i < LIMIT]
        seen += indices
    assert sorted(seen) == list(range(LIMIT))


def test_generation_resumes_after_an_interruption(tmp_path):
    folder = ensure_event_digits(tmp_path, limit=6)
    files = sorted(folder.glob("*/*/*.bin"))
    contents = {p: p.read_bytes() for p in files}
    removed, kept = files[:2], files[2:]
    stamps = {p: p.stat().st_mtime_ns for p in kept}
    for path in removed:
        path.unlink()
    (folder / "complete.json").unlink()
    assert ensure_event_digits(tmp_path, limit=6) == folder
    assert (folder / "complete.json").exists()
    assert {p: p.read_bytes() for p in sorted(folder.glob("*/*/*.bin"))} == contents
    assert all(p.stat().st_mtime_ns == stamps[p] for p in kept)  # kept, not rewritten


def test_other_parameters_are_refused(generated, tmp_path):
    root, _ = generated
    with pytest.raises(ValueError, match="delete"):
        ensure_event_digits(root, limit=LIMIT, threshold=0.2)
    with pytest.raises(ValueError, match="split_seed"):
        event_digits_files(root, "test", split_seed=1)
    # an interrupted generation with other parameters is refused too
    folder = ensure_event_digits(tmp_path, limit=2)
    (folder / "complete.json").unlink()
    with pytest.raises(ValueError, match="upscale"):
        ensure_event_digits(tmp_path, limit=2, upscale=2)


def test_files_of_an_ungenerated_root_are_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="ensure_event_digits"):
        event_digits_files(tmp_path, "train")


def test_bad_generation_parameters_write_nothing(tmp_path):
    with pytest.raises(ValueError, match="limit"):
        ensure_event_digits(tmp_path, limit=0)
    with pytest.raises(ValueError, match="dt_us"):
        ensure_event_digits(tmp_path, dt_us=300)
    assert not (tmp_path / "EventDigits").exists()


def test_event_digits_go_through_the_neuromorphic_pipeline(tmp_path):
    from spikedyn.data import build_dataset, events_to_frames

    train = build_dataset("event_digits", "train", root=str(tmp_path), limit=40, time_steps=6)
    test = build_dataset("event_digits", "test", root=str(tmp_path), limit=40, time_steps=6)
    assert train.info.frame_shape == (2, 34, 34) and train.info.num_classes == 10
    assert not set(train.files) & set(test.files) and all(p.suffix == ".bin" for p in train.files)
    frames, label = test[0]
    assert frames.shape == (6, 2, 34, 34) and label == int(test.files[0].parent.name)
    events = tonic.io.read_mnist_file(str(test.files[0]), dtype=NMNIST_DTYPE)
    np.testing.assert_array_equal(frames.numpy(), events_to_frames(events, (34, 34, 2), 6))
    assert test.prepare_cache() == len(test) - 1  # the sample read above is cached already

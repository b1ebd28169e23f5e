"""The frame cache never serves frames of a file's old content: entries are keyed by modification time or content hash."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data import build_dataset, events_to_frames
from spikedyn.data.options import OptionError
from tests.data.event_files import write_bin
from tests.data.events import random_events


def _one_file(root: Path, seed: int) -> tuple[Path, np.ndarray]:
    events = random_events(200, 34, 34, seed=seed)
    path = root / "NMNIST" / "Test" / "3" / "00000.bin"
    write_bin(path, events)
    return path, events


def _rewrite_same_size(path: Path, seed: int, mtime_ns: int) -> np.ndarray:
    """New events in place of the old, the same number (so the same size), with the modification time given."""
    events = random_events(200, 34, 34, seed=seed)
    write_bin(path, events)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return events


def _frames(events: np.ndarray) -> np.ndarray:
    return events_to_frames(events, (34, 34, 2), 4)


@pytest.mark.parametrize("verify", ["stat", "hash"])
def test_a_file_rewritten_at_the_same_size_gets_fresh_frames(tmp_path, verify):
    path, old = _one_file(tmp_path, seed=1)
    dataset = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=4, cache_verify=verify)
    np.testing.assert_array_equal(dataset[0][0].numpy(), _frames(old))
    new = _rewrite_same_size(path, seed=2, mtime_ns=path.stat().st_mtime_ns + 1_000_000_000)
    np.testing.assert_array_equal(dataset[0][0].numpy(), _frames(new))


def test_hash_verification_sees_a_rewrite_that_kept_the_old_modification_time(tmp_path):
    path, old = _one_file(tmp_path, seed=1)
    options = dict(root=str(tmp_path), time_steps=4)
    by_stat = build_dataset("nmnist", "test", **options)
    by_hash = build_dataset("nmnist", "test", **options, cache_verify="hash")
    for dataset in (by_stat, by_hash):
        np.testing.assert_array_equal(dataset[0][0].numpy(), _frames(old))
    new = _rewrite_same_size(path, seed=2, mtime_ns=path.stat().st_mtime_ns)  # a file system whose mtimes lie
    np.testing.assert_array_equal(by_stat[0][0].numpy(), _frames(old))  # what "stat" cannot see
    np.testing.assert_array_equal(by_hash[0][0].numpy(), _frames(new))


def test_an_unchanged_file_is_served_from_the_cache_in_either_mode(tmp_path, monkeypatch):
    _one_file(tmp_path, seed=1)
    for verify in ("stat", "hash"):
        dataset = build_dataset("nmnist", "test", root=str(tmp_path), time_steps=4, cache_verify=verify)
        assert dataset.prepare_cache() == 1
        monkeypatch.setattr(dataset, "read", lambda path: pytest.fail(f"{path} was read again"))
        assert dataset.prepare_cache() == 0 and dataset[0][0].shape == (4, 2, 34, 34)


def test_an_unknown_verification_names_the_option(tmp_path):
    _one_file(tmp_path, seed=1)
    with pytest.raises(OptionError, match=r"cache_verify='mtime' is not known; expected one of \['stat', 'hash'\]"):
        build_dataset("nmnist", "test", root=str(tmp_path), cache_verify="mtime")

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data.cache import FrameCache, cache_key

PARAMS = {"dataset": "toy", "time_steps": 4, "split_by": "number", "resize": None}


def _counts(seed: int, peak: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, peak, size=(4, 2, 6, 6)).astype(np.float32)


@pytest.mark.parametrize("peak, stored", [(5, np.uint8), (1000, np.uint16), (100_000, np.float32)])
def test_frames_round_trip_exactly_in_the_smallest_exact_dtype(tmp_path, peak, stored):
    cache = FrameCache(tmp_path, PARAMS)
    frames = _counts(0, peak)
    cache.store("a.bin", frames)
    loaded = cache.load("a.bin")
    assert loaded.dtype == stored
    np.testing.assert_array_equal(loaded.astype(np.float32), frames)


def test_non_integer_frames_are_kept_as_float32(tmp_path):
    cache = FrameCache(tmp_path, PARAMS)
    frames = np.random.default_rng(0).random((2, 2, 3, 3)).astype(np.float32)
    cache.store("resized", frames)
    np.testing.assert_array_equal(cache.load("resized"), frames)


@pytest.mark.parametrize("change", [{"time_steps": 5}, {"split_by": "time"}, {"resize": 48}, {"dataset": "other"}])
def test_any_parameter_change_makes_a_new_cache(tmp_path, change):
    first = FrameCache(tmp_path, PARAMS)
    first.store("a.bin", _counts(0))
    second = FrameCache(tmp_path, {**PARAMS, **change})
    assert second.folder != first.folder and cache_key({**PARAMS, **change}) != cache_key(PARAMS)
    assert second.load("a.bin") is None
    assert FrameCache(tmp_path, dict(PARAMS)).load("a.bin") is not None


def test_the_code_version_is_part_of_the_key(monkeypatch):
    import spikedyn.data.cache as cache_module

    before = cache_key(PARAMS)
    monkeypatch.setattr(cache_module, "FRAME_CODE_VERSION", cache_module.FRAME_CODE_VERSION + 1)
    assert cache_key(PARAMS) != before


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_entry_is_detected_and_rebuilt(tmp_path, damage):
    cache = FrameCache(tmp_path, PARAMS)
    frames = _counts(1)
    cache.store("a.bin", frames)
    path = cache.path("a.bin")
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "flip":
        blob[-3] ^= 0xFF
    else:
        blob = bytearray()
    path.write_bytes(bytes(blob))
    with pytest.warns(RuntimeWarning, match="damaged"):
        assert cache.load("a.bin") is None
    assert not path.exists()
    rebuilt = cache.get_or_build("a.bin", lambda: frames)
    np.testing.assert_array_equal(rebuilt, frames)
    np.testing.assert_array_equal(cache.load("a.bin"), frames)


def test_get_or_build_builds_once(tmp_path):
    cache = FrameCache(tmp_path, PARAMS)
    calls = []
    for _ in range(3):
        cache.get_or_build("a.bin", lambda: calls.append(1) or _counts(2))
    assert len(calls) == 1


_SLOW_BUILD = """
import sys, time
import numpy as np
from spikedyn.data.cache import FrameCache
cache = FrameCache(sys.argv[1], {"dataset": "toy", "time_steps": 4, "split_by": "number", "resize": None})
for i in range(1000):
    frames = np.random.default_rng(i).integers(0, 5, size=(64, 2, 64, 64)).astype(np.float32)
    cache.store(f"sample{i}", frames)
    time.sleep(0.005)
"""


def test_a_killed_build_leaves_whole_entries_and_resumes(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_BUILD, str(tmp_path)])
    cache = FrameCache(tmp_path, PARAMS)
    deadline = time.monotonic() + 60
    while len(list(cache.folder.glob("*.frames"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = [i for i in range(1000) if f"sample{i}" in cache]
    assert 5 <= len(written) < 1000
    for i in written:  # every entry that exists is whole
        expected = np.random.default_rng(i).integers(0, 5, size=(64, 2, 64, 64))
        np.testing.assert_array_equal(cache.load(f"sample{i}"), expected)
    built = []
    for i in range(len(written) + 3):
        cache.get_or_build(f"sample{i}", lambda i=i: built.append(i) or _counts(i))
    assert built == [len(written), len(written) + 1, len(written) + 2]


def test_parameters_are_written_beside_the_entries(tmp_path):
    cache = FrameCache(tmp_path, PARAMS)
    text = (cache.folder / "parameters.json").read_text()
    assert '"time_steps": 4' in text and '"frame_code_version"' in text
    assert Path(cache.folder).name.startswith("toy-")

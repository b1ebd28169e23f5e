"""CIFAR10-DVS's AEDAT4 files read as untrusted input: a damaged file is an error naming it, never a panic or a crash."""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from spikedyn.data.events import aedat4 as aedat4

from spikedyn.data.events import aedat4_decode as aedat4_decode
from spikedyn.data.events.aedat4 import read_aedat4, scan_aedat4
from spikedyn.data.base import DatasetInfo
from spikedyn.data.events.dataset import EventFrameDataset
from spikedyn.data.events.errors import EventFileError
from tests.data.event_files import ZSTD, write_aedat4
from tests.data.events import random_events
from tests.data.fuzz import mutations

HEADER_LENGTH_AT = 14  # after the magic
EVENTS = random_events(40, 128, 128, seed=1)


def _sound(tmp_path: Path, compression: int = 0, name: str = "sound.aedat4") -> Path:
    path = tmp_path / name
    write_aedat4(path, EVENTS, packets=3, compression=compression)
    return path


def _first_packet(data: bytes) -> int:
    return HEADER_LENGTH_AT + 4 + struct.unpack_from("<I", data, HEADER_LENGTH_AT)[0]


def _same_events(read: np.ndarray, written: np.ndarray) -> bool:
    return all(np.array_equal(read[f].astype(np.int64), written[f]) for f in "txyp")


@pytest.mark.parametrize("compression", [0, ZSTD])
def test_a_sound_file_gives_its_events(tmp_path, compression):
    events = read_aedat4(_sound(tmp_path, compression))
    assert events.dtype.names == ("t", "x", "y", "p") and _same_events(events, EVENTS)


def _edit(offset_of, value: bytes):
    """A damage: ``value`` written at the offset ``offset_of(data)`` gives."""

    def damage(data: bytes) -> bytes:
        at = offset_of(data)
        return data[:at] + value + data[at + len(value) :]

    return damage


# Each damage is one that made aedat panic (a BaseException), abort the process where memory is
# capped, or fail only after allocating what a length field claims (measured with aedat 2.3.0).
DAMAGES = {
    "a packet length of 4 GiB": (_edit(lambda d: _first_packet(d) + 4, struct.pack("<I", 0xFFFFFFF0)), "claims 4294967280 bytes"),
    "a header length of 4 GiB": (_edit(lambda d: HEADER_LENGTH_AT, struct.pack("<I", 0xFFFFFFF0)), "header claims 4294967280 bytes"),
    "a header root offset out of range": (_edit(lambda d: HEADER_LENGTH_AT + 4, struct.pack("<I", 40908)), "root table at byte"),
    "a description that is not UTF-8": (_edit(lambda d: d.index(b"<dv") + 5, b"\xe9"), "not UTF-8"),
    "a packet too short for a flatbuffer": (lambda d: d + struct.pack("<II", 0, 4) + b"EVTS", "identifier"),
    "a packet of an undeclared stream": (_edit(lambda d: _first_packet(d), struct.pack("<I", 7)), "stream 7, which the description does not declare"),
    "nothing after the header": (lambda d: d[: _first_packet(d)], "no packets after its header"),
    "another format": (lambda d: b"#!AER-DAT2.0\r\n" + d[14:], "magic"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_structural_damage_is_refused_before_aedat_sees_the_file(tmp_path, monkeypatch, damage):
    change, fragment = DAMAGES[damage]
    path = _sound(tmp_path)
    path.write_bytes(change(path.read_bytes()))
    monkeypatch.setattr(aedat4_decode, "decode", lambda _: pytest.fail("aedat was handed a file the check should refuse"))
    with pytest.raises(EventFileError, match=fragment) as caught:
        read_aedat4(path)
    assert str(path) in str(caught.value) and caught.value.path == str(path)


def test_a_data_position_the_packets_never_reach_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "data_position.aedat4"
    write_aedat4(path, EVENTS, data_position=5)  # aedat reads on past the last packet, and fails
    monkeypatch.setattr(aedat4_decode, "decode", lambda _: pytest.fail("aedat was handed a file the check should refuse"))
    with pytest.raises(EventFileError, match=rf"{path}: .*packets end at byte 5, but they end at byte {path.stat().st_size}"):
        read_aedat4(path)
    monkeypatch.undo()
    write_aedat4(path, EVENTS, data_position=path.stat().st_size)  # where DV puts its data table: right after the packets
    assert _same_events(read_aedat4(path), EVENTS)


def test_a_panic_of_aedat_is_an_error_naming_the_file(tmp_path, monkeypatch):
    path = _sound(tmp_path)
    path.write_bytes(DAMAGES["a header root offset out of range"][0](path.read_bytes()))
    layout = scan_aedat4(_sound(tmp_path, name="other.aedat4"))
    monkeypatch.setattr(aedat4, "scan_aedat4", lambda _: layout)  # let the damaged file through to aedat
    with pytest.raises(EventFileError, match=rf"{path}.*PanicException"):
        read_aedat4(path)


def test_keyboard_interrupt_and_system_exit_are_never_swallowed(tmp_path, monkeypatch):
    import aedat

    path = _sound(tmp_path)
    for stop in (KeyboardInterrupt, SystemExit):

        def interrupted(*args, stop=stop):
            raise stop()

        monkeypatch.setattr(aedat, "Decoder", interrupted)
        with pytest.raises(stop):
            read_aedat4(path)


def test_a_compressed_file_is_decoded_in_a_child_and_its_damage_named(tmp_path):
    path = _sound(tmp_path, ZSTD)
    assert scan_aedat4(path).isolate
    data = bytearray(path.read_bytes())
    data[_first_packet(data) + 8] ^= 0xFF  # the Zstd magic of the first packet
    path.write_bytes(bytes(data))
    with pytest.raises(EventFileError, match=rf"{path}: .*frame descriptor"):
        read_aedat4(path)


def test_a_decoder_that_aborts_ends_only_its_child(tmp_path, monkeypatch):
    aborting = tmp_path / "aborting_decoder.py"
    aborting.write_text("import os, resource\nresource.setrlimit(resource.RLIMIT_CORE, (0, 0))\nos.abort()\n")
    monkeypatch.setattr(aedat4_decode, "__file__", str(aborting))
    path = _sound(tmp_path, ZSTD)
    with pytest.raises(EventFileError, match=rf"{path}: aedat crashed decoding it .*SIGABRT"):
        read_aedat4(path)


_CAPPED_READ = textwrap.dedent(
    """
    import resource, sys
    from spikedyn.data.events.aedat4 import read_aedat4
    size = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:")) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + (1 << 30), size + (1 << 30)))  # a container's memory cap
    try:
        read_aedat4(sys.argv[1])
    except ValueError as error:
        print(error)
    """
)


@pytest.mark.drill
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_length_of_4_gib_under_a_memory_cap_is_an_error_not_an_abort(tmp_path):
    path = _sound(tmp_path)
    path.write_bytes(DAMAGES["a packet length of 4 GiB"][0](path.read_bytes()))
    done = subprocess.run([sys.executable, "-c", _CAPPED_READ, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode != -signal.SIGABRT, "aedat allocated the claimed 4 GiB and aborted the process"
    assert done.returncode == 0 and f"cannot read event file {path}" in done.stdout, done.stderr


def _fuzz(tmp_path: Path, corpus: dict[str, bytes]) -> tuple[EventFrameDataset, list[Path]]:
    files = []
    for name, data in corpus.items():
        files.append(tmp_path / f"{name}.aedat4")
        files[-1].write_bytes(data)
    info = DatasetInfo("fuzz", num_classes=1, frame_shape=(2, 128, 128), time_steps=4)
    return EventFrameDataset(info, files, np.zeros(len(files)), read_aedat4, (128, 128, 2), data_folder=tmp_path), files


@pytest.mark.drill
def test_every_fuzzed_file_gives_frames_or_an_error_naming_it(tmp_path):
    sound = _sound(tmp_path)
    dataset, files = _fuzz(tmp_path, mutations(sound.read_bytes(), seed=12))
    outcomes = {"frames": 0, "errors": 0}
    for index, path in enumerate(files):
        try:
            frames = dataset.integrate(index)
        except EventFileError as error:
            assert str(path) in str(error) and error.path == str(path)
            if "aedat:" in str(error):  # only a payload the check cannot read (one a flip made compressed) reaches aedat
                assert scan_aedat4(path).isolate, f"{path.name} passed the structure check yet aedat failed on it: {error}"
            outcomes["errors"] += 1
        else:
            assert frames.shape == (4, 2, 128, 128) and np.isfinite(frames).all()
            outcomes["frames"] += 1
    assert min(outcomes.values()) > 50, outcomes  # the corpus exercises both outcomes


@pytest.mark.drill
def test_fuzzed_compressed_files_give_events_or_an_error_naming_them(tmp_path):
    sound = _sound(tmp_path, ZSTD)
    corpus = mutations(sound.read_bytes(), seed=5, stride=97, flips=12, runs=6, garbage=2)
    dataset, files = _fuzz(tmp_path, corpus)
    outcomes = {"frames": 0, "errors": 0, "decoder errors": 0}
    for index, path in enumerate(files):
        try:
            frames = dataset.integrate(index)
        except EventFileError as error:
            assert str(path) in str(error) and error.path == str(path)
            outcomes["errors"] += 1
            outcomes["decoder errors"] += "aedat:" in str(error)  # a damaged payload that reached the decoding child
        else:
            assert frames.shape == (4, 2, 128, 128) and np.isfinite(frames).all()
            outcomes["frames"] += 1
    # Both outcomes occur (seed 5 gives 6 files read, 27 refused, 2 of them by the decoder): without this, a reader
    # that refused every compressed file, or accepted every one, would pass.
    assert min(outcomes.values()) > 0, outcomes


def _cifar10dvs(root: Path, damaged: set[int]) -> list[Path]:
    files = []
    for n in range(6):
        files.append(root / "CIFAR10DVS" / "airplane" / f"cifar10_airplane_{n}.aedat4")
        write_aedat4(files[-1], random_events(30, 128, 128, seed=n))
        if n in damaged:
            files[-1].write_bytes(DAMAGES["a packet length of 4 GiB"][0](files[-1].read_bytes()))
    return files


@pytest.mark.parametrize("workers", [0, pytest.param(2, marks=pytest.mark.drill)])
def test_a_corrupt_file_does_not_stop_the_cache_build(tmp_path, workers):
    from spikedyn.data import build_dataset

    files = _cifar10dvs(tmp_path, damaged={0, 3})
    dataset = build_dataset("cifar10dvs", "train", root=str(tmp_path), val_fraction=0.0, train_fraction=0.99, time_steps=2)
    assert dataset.files == files
    with pytest.raises(EventFileError, match=r"2 of 6 event files could not be read") as caught:
        dataset.prepare_cache(num_workers=workers)
    assert str(files[0]) in str(caught.value) and str(files[3]) in str(caught.value)
    assert [dataset.entry(i) in dataset.cache for i in range(6)] == [False, True, True, False, True, True]

"""Small neuromorphic data files in each dataset's real on-disk format, for the reader tests."""

from __future__ import annotations

import struct
from pathlib import Path

import flatbuffers
import numpy as np

from spikedyn.data.events.nmnist_format import write_nmnist_file

AEDAT4_MAGIC = b"#!AER-DAT4.0\r\n"
#: The IOHeader's Zstd compression value; the only compression these helpers write.
ZSTD = 3
EVENTS_DESCRIPTION = """<dv version="2.0">
    <node name="outInfo">
        <node name="0">
            <attr key="typeIdentifier" type="string">EVTS</attr>
            <node name="info">
                <attr key="sizeX" type="int">{width}</attr>
                <attr key="sizeY" type="int">{height}</attr>
            </node>
        </node>
    </node>
</dv>
"""


def _aedat4_header(width: int, height: int, compression: int, data_position: int) -> bytes:
    """IOHeader table: the compression (0: none, the default), where the data table starts (-1: none), the stream description."""
    builder = flatbuffers.Builder(512)
    description = builder.CreateString(EVENTS_DESCRIPTION.format(width=width, height=height))
    builder.StartObject(3)
    builder.PrependUOffsetTRelativeSlot(2, description, 0)
    builder.PrependInt64Slot(1, data_position, -1)
    builder.PrependInt32Slot(0, compression, 0)
    builder.FinishSizePrefixed(builder.EndObject(), b"IOHE")
    return bytes(builder.Output())


def zstd_stored(data: bytes) -> bytes:
    """A Zstandard frame holding ``data`` in raw (stored) blocks: valid Zstd that any decoder reads, written without a compressor."""
    frame = bytearray(b"\x28\xb5\x2f\xfd") + bytes([0xA0]) + struct.pack("<I", len(data))  # single segment, 4-byte content size
    blocks = [data[i : i + (1 << 17)] for i in range(0, len(data), 1 << 17)] or [b""]
    for n, block in enumerate(blocks):
        frame += (int(n == len(blocks) - 1) | len(block) << 3).to_bytes(3, "little") + block  # last flag, type raw, size
    return bytes(frame)


def _aedat4_event_packet(events: np.ndarray, compression: int) -> bytes:
    """One EventPacket on stream 0: a vector of struct Event {t: int64, x: int16, y: int16, on: bool}."""
    builder = flatbuffers.Builder(64 + 16 * len(events))
    builder.StartVector(16, len(events), 8)
    for event in events[::-1]:
        builder.Prep(8, 16)
        builder.Pad(3)
        builder.PrependBool(bool(event["p"]))
        builder.PrependInt16(int(event["y"]))
        builder.PrependInt16(int(event["x"]))
        builder.PrependInt64(int(event["t"]))
    vector = builder.EndVector()
    builder.StartObject(1)
    builder.PrependUOffsetTRelativeSlot(0, vector, 0)
    builder.FinishSizePrefixed(builder.EndObject(), b"EVTS")
    payload = bytes(builder.Output())
    if compression == ZSTD:
        payload = zstd_stored(payload)
    elif compression:
        raise ValueError(f"these helpers write compression 0 (none) or {ZSTD} (Zstd), not {compression}")
    return (0).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload


def write_aedat4(
    path: Path, events: np.ndarray, width: int = 128, height: int = 128, packets: int = 2, compression: int = 0, data_position: int = -1
) -> None:
    """An AEDAT4 file (CIFAR10-DVS's format) holding ``events`` split over ``packets``, uncompressed or Zstd."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = np.array_split(events, packets) if len(events) >= packets else [events]
    body = b"".join(_aedat4_event_packet(c, compression) for c in chunks)
    path.write_bytes(AEDAT4_MAGIC + _aedat4_header(width, height, compression, data_position) + body)


def write_dvsgesture_npy(path: Path, events: np.ndarray) -> None:
    """tonic's DVSGesture file: an array [N, 4] of x, y, p, t in milliseconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = np.stack([events["x"], events["y"], events["p"], events["t"] // 1000], axis=1).astype(np.int64)
    np.save(path, table)


def write_bin(path: Path, events: np.ndarray) -> None:
    """N-MNIST / N-Caltech101 .bin: 5 bytes per event."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_nmnist_file(path, events)

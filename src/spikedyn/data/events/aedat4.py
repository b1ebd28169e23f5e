"""AEDAT4 files (CIFAR10-DVS) read safely: the structure checked in Python before aedat decodes it.

The aedat package trusts the file: offsets in its flatbuffers are followed unchecked (a damaged
header panics with pyo3's PanicException, a BaseException), a length field is allocated before
it is read (up to 4 GiB; where memory is capped the allocation failure aborts the process), and
compressed packets decompress without bound. So :func:`read_aedat4` first walks the container
here: magic, header, stream description, every packet's framing, and for uncompressed files every
event packet's flatbuffer, refusing with the file's name and byte offset whatever does not add
up. A checked uncompressed file is then decoded by aedat in this process; a compressed one, whose
payload cannot be checked without decompressing it, in a child process with a memory cap
(:mod:`spikedyn.data.events.aedat4_decode`), so that a crash or a decompression bomb ends the child only.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikedyn.data.events import aedat4_decode as aedat4_decode
from spikedyn.data.events.errors import read_error

MAGIC = b"#!AER-DAT4.0\r\n"
#: The IOHeader's compression values: None, LZ4, LZ4 high, Zstd, Zstd high.
COMPRESSIONS = {0: "none", 1: "LZ4", 2: "LZ4 (high)", 3: "Zstd", 4: "Zstd (high)"}
#: The stream types aedat knows, by their flatbuffer file identifier.
STREAM_TYPES = ("EVTS", "FRME", "IMUS", "TRIG")
#: One Event struct of an EventPacket: t int64, x int16, y int16, on bool, 3 bytes padding.
EVENT_SIZE = 16
#: Address space a child decoding a compressed file may use; beyond it the decode fails in the child.
CHILD_MEMORY_BYTES = 4 << 30
#: Seconds a child may take to decode one file.
CHILD_TIMEOUT_S = 600
# "-c" puts the working directory first on sys.path: dropped, so that no file there can shadow numpy or aedat.
_RUN_CHILD = "import runpy, sys; del sys.path[0]; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


class _Damaged(Exception):
    """A structural fault, reported by :func:`scan_aedat4` as an error naming the file."""


@dataclass(frozen=True)
class Aedat4Layout:
    """What the structure check found: compression, streams, and where the event stream's events are."""

    compression: int
    streams: dict[int, str]  # stream id -> type identifier
    event_stream: int  # the lowest-numbered event stream: the one read
    event_count: int  # events of that stream in its uncompressed packets
    packets: int  # packets of every stream
    unchecked: int  # packets whose payload was not checked: compressed, or frames, IMU, triggers

    @property
    def isolate(self) -> bool:
        """Whether aedat must decode in a child: some payload was not checked here."""
        return self.unchecked > 0


class _Flatbuffer:
    """Bounds-checked reads of one flatbuffer (bytes from its root offset on), as aedat would follow them."""

    def __init__(self, data: bytes, start: int, end: int, what: str) -> None:
        self.data, self.start, self.end, self.what = data, start, end, what

    def _need(self, position: int, size: int, item: str) -> None:
        if position < self.start or position + size > self.end:
            raise _Damaged(f"{self.what}: {item} at byte {position} ({size} bytes) lies outside the {self.end - self.start} bytes at {self.start}")

    def u32(self, position: int, item: str) -> int:
        self._need(position, 4, item)
        return struct.unpack_from("<I", self.data, position)[0]

    def root_table(self) -> tuple[int, int, int]:
        """(table, vtable, vtable size) of the root table, each checked to lie inside the buffer."""
        table = self.start + self.u32(self.start, "root offset")
        self._need(table, 4, "root table")
        vtable = table - struct.unpack_from("<i", self.data, table)[0]
        self._need(vtable, 4, "vtable")
        vtable_size, table_size = struct.unpack_from("<HH", self.data, vtable)
        if vtable_size < 4 or vtable_size % 2:
            raise _Damaged(f"{self.what}: vtable at byte {vtable} has size {vtable_size}, expected an even number >= 4")
        self._need(vtable, vtable_size, "vtable")
        self._need(table, max(table_size, 4), "root table")
        return table, vtable, vtable_size

    def field(self, table: int, vtable: int, vtable_size: int, index: int, size: int, item: str) -> int | None:
        """The byte position of field ``index`` of the table (None when absent), its ``size`` bytes inside the buffer."""
        slot = 4 + 2 * index
        offset = struct.unpack_from("<H", self.data, vtable + slot)[0] if slot + 2 <= vtable_size else 0
        if offset == 0:
            return None
        self._need(table + offset, size, item)
        return table + offset

    def vector(self, field: int, element_size: int, item: str) -> tuple[int, int]:
        """(first element position, count) of the vector or string a field refers to, all of it inside the buffer."""
        position = field + self.u32(field, f"{item} offset")
        count = self.u32(position, f"{item} length")
        self._need(position + 4, count * element_size, item)
        return position + 4, count


def _header(data: bytes) -> tuple[int, int, str, int]:
    """(compression, file data position, description, end of header) of the IOHeader after the magic."""
    if len(data) < len(MAGIC) + 4:
        raise _Damaged(f"{len(data)} bytes is too short for an AEDAT4 header (truncated?)")
    if not data.startswith(MAGIC):
        raise _Damaged(f"it does not start with the AEDAT4 magic {MAGIC!r}, got {data[: len(MAGIC)]!r}")
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start, end = len(MAGIC) + 4, len(MAGIC) + 4 + length
    if end > len(data):
        raise _Damaged(f"its header claims {length} bytes but only {len(data) - start} follow (truncated or damaged)")
    header = _Flatbuffer(data, start, end, "header")
    table, vtable, vtable_size = header.root_table()
    compression_field = header.field(table, vtable, vtable_size, 0, 4, "compression")
    compression = 0 if compression_field is None else struct.unpack_from("<i", data, compression_field)[0]
    if compression not in COMPRESSIONS:
        raise _Damaged(f"header compression is {compression}, expected one of {sorted(COMPRESSIONS)} ({', '.join(COMPRESSIONS.values())})")
    position_field = header.field(table, vtable, vtable_size, 1, 8, "file data position")
    data_position = -1 if position_field is None else struct.unpack_from("<q", data, position_field)[0]
    description_field = header.field(table, vtable, vtable_size, 2, 4, "description")
    if description_field is None:
        raise _Damaged("its header has no stream description")
    first, count = header.vector(description_field, 1, "description")
    try:
        description = data[first : first + count].decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Damaged(f"its stream description is not UTF-8 ({error})") from None
    return compression, data_position, description, end


def _integer(text: str | None, bits: int, item: str) -> int:
    if text is None or not text.isascii() or not text.isdigit() or int(text) >= 1 << bits:
        raise _Damaged(f"stream description: {item} is {text!r}, expected an integer in [0, {(1 << bits) - 1}]")
    return int(text)


def _streams(description: str) -> dict[int, str]:
    """Stream id -> type identifier, from the XML stream description (as aedat reads it)."""
    if "<!DOCTYPE" in description or "<!ENTITY" in description:
        raise _Damaged("its stream description declares a DTD or entities, which AEDAT4 never writes")
    try:
        root = ElementTree.fromstring(description)
    except (ElementTree.ParseError, ValueError) as error:
        raise _Damaged(f"its stream description is not valid XML ({error})") from None
    output = next((n for n in root if n.tag == "node" and n.get("name") == "outInfo"), None) if root.tag == "dv" else None
    if output is None:
        raise _Damaged("its stream description has no <dv><node name='outInfo'> listing the streams")
    streams: dict[int, str] = {}
    for node in (n for n in output if n.tag == "node"):
        stream = _integer(node.get("name"), 32, "a stream id")
        kind = next((a.text for a in node if a.tag == "attr" and a.get("key") == "typeIdentifier"), None)
        if kind not in STREAM_TYPES:
            raise _Damaged(f"stream {stream} has type {kind!r}, expected one of {list(STREAM_TYPES)}")
        if kind in ("EVTS", "FRME"):
            info = next((n for n in node if n.tag == "node" and n.get("name") == "info"), None)
            sizes = {a.get("key"): a.text for a in (info if info is not None else ()) if a.tag == "attr"}
            for key in ("sizeX", "sizeY"):
                _integer(sizes.get(key), 16, f"{key} of stream {stream}")
        if stream in streams:
            raise _Damaged(f"stream id {stream} is declared twice")
        streams[stream] = kind
    if not streams:
        raise _Damaged("its stream description declares no streams")
    return streams


def _event_count(data: bytes, start: int, length: int) -> int:
    """The events of one uncompressed EventPacket (a size-prefixed flatbuffer), its structure checked."""
    what = f"event packet at byte {start - 8}"
    if length < 12:
        raise _Damaged(f"{what}: {length} bytes, too short for a flatbuffer (12 at least)")
    packet = _Flatbuffer(data, start + 4, start + length, what)  # after its size prefix
    table, vtable, vtable_size = packet.root_table()
    elements = packet.field(table, vtable, vtable_size, 0, 4, "elements")
    if elements is None:
        raise _Damaged(f"{what}: it has no events vector")
    return packet.vector(elements, EVENT_SIZE, "events vector")[1]


def _walk_packets(data: bytes, position: int, data_position: int, streams: dict[int, str], compression: int, event_stream: int) -> tuple[int, int, int]:
    """(packets, events of ``event_stream``, packets not checked inside), every packet framed as aedat will read it.

    Uncompressed event packets are checked inside too; the payloads of compressed packets and of
    other stream types (frames, IMU, triggers) are not.
    """
    packets, events, unchecked = 0, 0, 0
    while position != data_position and position != len(data):
        if len(data) - position < 8:
            raise _Damaged(f"{len(data) - position} bytes at byte {position} are too few for a packet header (truncated?)")
        stream, length = struct.unpack_from("<II", data, position)
        start = position + 8
        if length > len(data) - start:
            raise _Damaged(f"the packet at byte {position} claims {length} bytes but only {len(data) - start} follow (truncated or damaged)")
        if stream not in streams:
            raise _Damaged(f"the packet at byte {position} belongs to stream {stream}, which the description does not declare ({sorted(streams)})")
        if compression != 0 or streams[stream] != "EVTS":
            unchecked += 1
        else:
            identifier = data[start + 8 : start + 12] if length >= 12 else b""
            if identifier != b"EVTS":
                raise _Damaged(f"the packet at byte {position} of event stream {stream} carries identifier {identifier!r}, expected b'EVTS'")
            count = _event_count(data, start, length)
            events += count if stream == event_stream else 0
        packets += 1
        position = start + length
    if position != data_position and data_position != -1:  # aedat then reads past the end, an error
        raise _Damaged(f"its header says the packets end at byte {data_position}, but they end at byte {position}")
    return packets, events, unchecked


def scan_aedat4(path: str | os.PathLike[str]) -> Aedat4Layout:
    """The layout of AEDAT4 file ``path``, or an EventFileError naming it and the first fault found."""
    try:
        data = Path(path).read_bytes()
        compression, data_position, description, end = _header(data)
        streams = _streams(description)
        event_streams = [stream for stream, kind in streams.items() if kind == "EVTS"]
        if not event_streams:
            raise _Damaged(f"it declares no event stream (EVTS), only {sorted(set(streams.values()))}")
        packets, events, unchecked = _walk_packets(data, end, data_position, streams, compression, min(event_streams))
    except _Damaged as fault:
        raise read_error(path, f"not a sound AEDAT4 file: {fault}") from None
    except OSError as error:
        raise read_error(path, error) from error
    if packets == 0:
        raise read_error(path, "not a sound AEDAT4 file: it holds no packets after its header (truncated?)")
    return Aedat4Layout(compression, streams, min(event_streams), events, packets, unchecked)


def _decode_in_child(path: Path) -> np.ndarray:
    """aedat's events of ``path``, decoded in a child process with :data:`CHILD_MEMORY_BYTES` of address space."""
    command = [sys.executable, "-c", _RUN_CHILD, aedat4_decode.__file__, os.fspath(path), str(CHILD_MEMORY_BYTES)]
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run(command, capture_output=True, timeout=CHILD_TIMEOUT_S, env=environment, check=False)
    except subprocess.TimeoutExpired:
        raise read_error(path, f"aedat took over {CHILD_TIMEOUT_S} s to decode it (in a child process)") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        if done.returncode < 0:
            name = signal.Signals(-done.returncode).name if -done.returncode in signal.valid_signals() else str(-done.returncode)
            reason = f"aedat crashed decoding it (child process killed by {name}{': ' + said[-1] if said else ''})"
        else:
            reason = said[-1] if said else f"the decoding child exited with status {done.returncode}"
        raise read_error(path, reason)
    try:
        return np.load(io.BytesIO(done.stdout), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise read_error(path, f"the decoding child wrote no readable events ({error})") from None


def _decode_here(path: Path) -> np.ndarray:
    try:
        return aedat4_decode.decode(os.fspath(path))
    except RuntimeError as error:
        raise read_error(path, error) from None


def read_aedat4(path: str | os.PathLike[str]) -> np.ndarray:
    """Events (t, x, y, p) of AEDAT4 file ``path``; any fault, checked or met by aedat, is an EventFileError naming it."""
    path = Path(path)
    layout = scan_aedat4(path)
    events = _decode_in_child(path) if layout.isolate else _decode_here(path)
    if layout.compression == 0 and len(events) != layout.event_count:
        raise read_error(path, f"aedat decoded {len(events)} events where its packets hold {layout.event_count}")
    return events

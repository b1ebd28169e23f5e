"""The global heap behind HDF5's variable-length strings, checked before libhdf5 reads it.

A variable-length string is stored as (length, heap collection address, object index); the
text lies in a "global heap collection" elsewhere in the file. libhdf5 trusts both: a free-
space object of size 0 in a collection makes its parser loop forever (found by flipping bytes
of a genuine export), and many strings may point at one large object, each copy allocated. So
before a string dataset is read, its raw elements are read here (contiguous layout only, as
nir's writer makes them), every collection they point at is walked as libhdf5 walks it, and
the bytes the strings will take are returned, for the caller to count against its limits.
"""

from __future__ import annotations

import math
import os
from typing import BinaryIO

import h5py
import h5py.h5d

from spikedyn.interop.nir_errors import NIRImportError

_HEADER_FIXED = 8  # "GCOL", version, 3 reserved bytes; then the collection's size
_OBJECT_FIXED = 8  # index (2), reference count (2), 4 reserved bytes; then the object's size


def _uint(data: bytes) -> int:
    return int.from_bytes(data, "little")


class HeapCheck:
    """Checks the string datasets of one open file against its global heap, each collection walked once."""

    def __init__(self, file: h5py.File, raw: BinaryIO) -> None:
        self.raw = raw
        self.offset_size, self.length_size = file.id.get_create_plist().get_sizes()
        self.base = file.userblock_size  # heap addresses count from the end of the user block
        self.end = os.fstat(raw.fileno()).st_size
        self.collections: dict[int, dict[int, int]] = {}

    def _collection(self, address: int, where: str) -> dict[int, int]:
        """Object index -> size of the collection at ``address``; a NIRImportError when it is malformed."""
        if address in self.collections:
            return self.collections[address]
        malformed = f"{where} points at a malformed HDF5 global heap collection at address {address}"
        header = _HEADER_FIXED + self.length_size
        self.raw.seek(self.base + address)
        head = self.raw.read(header)
        if len(head) < header or head[:5] != b"GCOL\x01":
            raise NIRImportError(f"{malformed} (no collection header)")
        size = _uint(head[_HEADER_FIXED:])
        if size < header or self.base + address + size > self.end:
            raise NIRImportError(f"{malformed} (its size, {size:,} bytes, does not fit in the file)")
        body = self.raw.read(size - header)
        object_header = _OBJECT_FIXED + self.length_size
        objects: dict[int, int] = {}
        position = 0
        while position + object_header <= len(body):  # a shorter tail is free space, as for libhdf5
            index = _uint(body[position : position + 2])
            object_size = _uint(body[position + _OBJECT_FIXED : position + object_header])
            # libhdf5 steps over an object by its header and its size padded to 8 bytes, over free space (index 0) by its size
            step = object_header + 8 * math.ceil(object_size / 8) if index else object_size
            if step < object_header or position + step > len(body):
                raise NIRImportError(f"{malformed} (object {index} at offset {position} declares {object_size:,} bytes, "
                                     "which libhdf5 cannot step over within the collection)")  # fmt: skip
            if index:
                objects[index] = object_size
            position += step
        self.collections[address] = objects
        return objects

    def string_bytes(self, dataset: h5py.Dataset, where: str) -> int:
        """The bytes the variable-length strings of ``dataset`` will take once read; a NIRImportError for a bad heap."""
        element = 4 + self.offset_size + 4  # length, collection address, object index
        count = math.prod(dataset.shape)
        offset = dataset.id.get_offset()
        if dataset.id.get_create_plist().get_layout() != h5py.h5d.CONTIGUOUS or offset is None:
            raise NIRImportError(f"{where} holds text that is not stored contiguously: spikedyn reads variable-length "
                                 "strings only as nir's writer stores them")  # fmt: skip
        if dataset.id.get_storage_size() != count * element or offset + count * element > self.end:
            raise NIRImportError(f"{where}: its {count:,} strings do not match its storage")
        self.raw.seek(offset)
        data = self.raw.read(count * element)
        total = 0
        for start in range(0, len(data), element):
            length = _uint(data[start : start + 4])
            address = _uint(data[start + 4 : start + 4 + self.offset_size])
            index = _uint(data[start + 4 + self.offset_size : start + element])
            if address == 0 and length == 0:
                continue  # an empty (null) string: nothing on the heap
            objects = self._collection(address, where)
            if objects.get(index) != length:  # libhdf5 reads the object into a buffer sized by the string's length
                raise NIRImportError(f"{where} points at heap object {index} of the collection at address {address}, "
                                     f"which {'is not there' if index not in objects else 'differs in size from the string'}")  # fmt: skip
            total += length
        return total

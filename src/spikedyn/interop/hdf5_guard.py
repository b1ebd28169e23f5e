"""Checks on one HDF5 object of an untrusted file, made before any of its data is read.

A HDF5 file can hand a reader data from elsewhere: a soft or external link, a dataset stored in
another file (``external=``) or mapped from other datasets (virtual). It can declare any shape,
and a gzip chunk can inflate far past the chunk's declared size (libhdf5 grows its buffer until
the stream ends: a 4 kB chunk stored as 1 MB of gzip made it allocate 1 GB). So an object is reached only
through hard links (any soft link is refused, even one inside the file: nir's writer writes
none), and a dataset is read only when it is stored in the file itself, declares a size within
:class:`~spikedyn.interop.nir_limits.NIRLimits`, passes only through the filters below, and
each of its gzip chunks inflates to no more than its chunk size (checked here, chunk by chunk,
with a bounded decompressor).
"""

from __future__ import annotations

import math
import zlib

import h5py
import h5py.h5d
import h5py.h5l
import h5py.h5z

from spikedyn.interop.nir_errors import NIRImportError
from spikedyn.interop.nir_limits import NIRLimits

#: Filter id -> name: the standard pipeline of nir's writer (gzip) and h5py's lossless options.
#: lzf and szip are refused: their output size cannot be bounded here before libhdf5 inflates them.
FILTERS = {h5py.h5z.FILTER_DEFLATE: "gzip (deflate)", h5py.h5z.FILTER_SHUFFLE: "shuffle", h5py.h5z.FILTER_FLETCHER32: "fletcher32"}
_FLETCHER_BYTES = 4  # the checksum fletcher32 appends to a chunk


def _link_text(group: h5py.Group, name: str) -> str:
    link = group.get(name, getlink=True)
    if isinstance(link, h5py.SoftLink):
        return f"a soft link to {link.path!r}"
    if isinstance(link, h5py.ExternalLink):
        return f"an external link to {link.filename!r}:{link.path!r}"
    return "a user-defined link"


def names(group: h5py.Group, where: str) -> list[str]:
    """The link names in ``group``, in h5py's order; a NIRImportError for one that is not UTF-8 text."""
    found = list(group)
    odd = [name for name in found if isinstance(name, bytes)]  # h5py yields undecodable names as bytes
    if odd:
        raise NIRImportError(f"{where} holds a name that is not UTF-8 text: {odd[0]!r}")
    return found


def has(group: h5py.Group, name: str) -> bool:
    """Whether ``group`` holds a link ``name`` of any kind, judged by the link alone (its target may be missing)."""
    return bool(group.id.links.exists(name.encode()))


def member(group: h5py.Group, name: str, where: str) -> h5py.Group | h5py.Dataset:
    """``group[name]`` when it is a hard link to a group or dataset; a NIRImportError naming ``where`` otherwise."""
    if group.id.links.get_info(name.encode()).type != h5py.h5l.TYPE_HARD:
        raise NIRImportError(f"{where} is {_link_text(group, name)}: spikedyn reads only objects stored in the NIR file "
                             "itself, reached by hard links")  # fmt: skip
    kind = group.get(name, getclass=True)
    if kind not in (h5py.Group, h5py.Dataset):
        raise NIRImportError(f"{where} is a HDF5 {getattr(kind, '__name__', kind)}, expected a group or a dataset")
    return group[name]


def check_storage(dataset: h5py.Dataset, where: str) -> None:
    """Refuse a dataset stored outside the file (external, virtual) or through a filter not in :data:`FILTERS`."""
    plist = dataset.id.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise NIRImportError(f"{where} is a virtual dataset, mapped from other datasets or files: spikedyn reads only "
                             "data stored in the NIR file itself")  # fmt: skip
    if plist.get_external_count():
        stored = plist.get_external(0)[0].decode(errors="replace")
        raise NIRImportError(f"{where} is stored outside the file (external storage in {stored!r}): spikedyn reads only "
                             "data stored in the NIR file itself")  # fmt: skip
    ids = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    for position, code in enumerate(ids):
        if code not in FILTERS:
            name = plist.get_filter(position)[3].decode(errors="replace")
            raise NIRImportError(f"{where} passes through HDF5 filter {code} ({name!r}): spikedyn reads only "
                                 f"{', '.join(FILTERS.values())}")  # fmt: skip
        if code in ids[:position]:
            raise NIRImportError(f"{where} passes through the {FILTERS[code]} filter twice; the standard pipeline applies it once")


def declared_bytes(dataset: h5py.Dataset, where: str, limits: NIRLimits) -> int:
    """The bytes ``dataset`` declares; a NIRImportError when its elements, its bytes or one chunk pass the limits."""
    if dataset.shape is None:
        raise NIRImportError(f"{where} is an empty HDF5 dataset (no dataspace), expected data")
    elements = math.prod(dataset.shape)
    size = elements * dataset.dtype.itemsize
    chunk = math.prod(dataset.chunks) * dataset.dtype.itemsize if dataset.chunks else 0
    declared = f"{where} declares shape {dataset.shape} of {dataset.dtype} ({size:,} bytes)"
    if elements > limits.max_array_elements:
        raise NIRImportError(f"{declared}: {elements:,} elements, more than NIRLimits.max_array_elements = {limits.max_array_elements:,}")
    if size > limits.max_array_bytes:
        raise NIRImportError(f"{declared}: more than NIRLimits.max_array_bytes = {limits.max_array_bytes:,}")
    if chunk > limits.max_array_bytes:
        raise NIRImportError(f"{where} declares chunks of {chunk:,} bytes (read whole), more than NIRLimits.max_array_bytes = "
                             f"{limits.max_array_bytes:,}")  # fmt: skip
    return size


def _inflate(data: bytes, cap: int, where: str, offset: tuple[int, ...]) -> bytes:
    """``data`` decompressed, refused when it inflates past ``cap`` bytes or is no complete zlib stream."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as error:
        raise NIRImportError(f"{where}: the gzip chunk at {offset} is corrupt ({error})") from None
    if len(out) > cap:
        raise NIRImportError(f"{where}: the gzip chunk at {offset} inflates past its declared {cap:,} bytes")
    if not inflater.eof:
        raise NIRImportError(f"{where}: the gzip chunk at {offset} is truncated")
    return out


def check_chunks(dataset: h5py.Dataset, where: str) -> None:
    """Refuse a chunked dataset one of whose stored chunks lies past the file's end or inflates past its chunk size.

    Undoes the pipeline of :func:`check_storage`'s filters on each stored chunk as libhdf5
    would, last filter first (skipping those the chunk's filter mask marks as not applied),
    with a decompressor that stops one byte past the chunk's size.
    """
    if dataset.chunks is None:
        return
    plist = dataset.id.get_create_plist()
    ids = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    cap = math.prod(dataset.chunks) * dataset.dtype.itemsize + (_FLETCHER_BYTES if h5py.h5z.FILTER_FLETCHER32 in ids else 0)
    end = dataset.file.id.get_filesize()
    stored: list[h5py.h5d.StoreInfo] = []
    dataset.id.chunk_iter(stored.append)
    for info in stored:
        if info.byte_offset + info.size > end:
            raise NIRImportError(f"{where}: the chunk at {info.chunk_offset} claims {info.size:,} bytes at {info.byte_offset:,}, "
                                 f"past the end of the file ({end:,} bytes)")  # fmt: skip
        if h5py.h5z.FILTER_DEFLATE not in ids:
            continue
        mask, data = dataset.id.read_direct_chunk(info.chunk_offset)
        for position in reversed(range(len(ids))):
            if mask & (1 << position):
                continue
            if ids[position] == h5py.h5z.FILTER_FLETCHER32:
                data = data[:-_FLETCHER_BYTES]
            elif ids[position] == h5py.h5z.FILTER_DEFLATE:
                data = _inflate(data, cap, where, info.chunk_offset)

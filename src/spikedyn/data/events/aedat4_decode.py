"""Events of an AEDAT4 file decoded by the aedat package, here or, run as a script, in a child process.

As a script (``python aedat4_decode.py FILE MEMORY_BYTES``) it caps its own address space, decodes
``FILE`` and writes the events to stdout as .npy; a decoder that panics or fails exits with status
2 and the reason on stderr, one that aborts or runs out of memory ends this child and not its
caller. It imports only numpy and aedat, so the child starts in a fraction of a second.
"""

from __future__ import annotations

import sys

import numpy as np

EVENT_FIELDS = ("t", "x", "y", "p")


def _is_rust_panic(error: BaseException) -> bool:
    """Whether ``error`` is pyo3's PanicException: a BaseException, not an Exception, yet only a failed decode."""
    return (type(error).__module__, type(error).__name__) == ("pyo3_runtime", "PanicException")


def decode(path: str) -> np.ndarray:
    """The events (t, x, y, p) of the lowest-numbered event stream, as tonic's ``read_aedat4`` picks them.

    Exceptions and panics of the decoder are raised as a RuntimeError with its message.
    """
    import aedat

    try:
        decoder = aedat.Decoder(path)
        streams = [key for key, stream in decoder.id_to_stream().items() if stream["type"] == "events"]
        if not streams:
            raise RuntimeError("the file declares no event stream")
        packets = [packet["events"] for packet in decoder if packet["stream_id"] == min(streams)]
    except BaseException as error:
        if isinstance(error, Exception) or _is_rust_panic(error):  # KeyboardInterrupt, SystemExit pass
            raise RuntimeError(f"aedat: {type(error).__name__}: {error}") from None
        raise
    if not packets:
        raise RuntimeError("the file holds no event packets (truncated after its header?)")
    return _renamed(np.concatenate(packets))


def _renamed(events: np.ndarray) -> np.ndarray:
    """aedat's fields t, x, y, on (titled p) as t, x, y, p, the renaming tonic does, as a view without titles."""
    fields = [events.dtype.fields[name] for name in events.dtype.names]
    layout = {"names": list(EVENT_FIELDS), "formats": [f[0] for f in fields], "offsets": [f[1] for f in fields], "itemsize": events.dtype.itemsize}
    return events.view(np.dtype(layout))


def main(argv: list[str]) -> int:
    """Decode ``argv[1]`` within ``argv[2]`` bytes of address space; .npy on stdout, or status 2 and the reason."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(argv[2]), int(argv[2])))
    except (ImportError, ValueError, OSError):
        pass  # no address-space limit on this platform: the decode is still isolated
    try:
        events = decode(argv[1])
    except (RuntimeError, MemoryError) as error:
        print(str(error) or type(error).__name__, file=sys.stderr)
        return 2
    np.save(sys.stdout.buffer, events, allow_pickle=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The error for an event file that cannot be read: a ValueError that names the file."""

from __future__ import annotations

import os


class EventFileError(ValueError):
    """An event file that is damaged, truncated or not what its dataset expects; ``path`` names it.

    Built from the message alone too, as DataLoader does when it re-raises a worker's error.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    def __reduce__(self) -> tuple[type, tuple[str, str | None]]:
        return type(self), (str(self), self.path)


def read_error(path: str | os.PathLike[str], reason: object) -> EventFileError:
    """The error for a data file that cannot be parsed: it names the file."""
    return EventFileError(f"cannot read event file {os.fspath(path)}: {reason}", os.fspath(path))

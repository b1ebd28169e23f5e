"""Downloads that land whole and verified or not at all: mirrors in order, MD5 checked before the file appears."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from spikedyn.atomic import publish_mode

_CHUNK = 1 << 20
_MD5 = re.compile(r"[0-9a-fA-F]{32}")
_USER_AGENT = "spikedyn"  # some mirrors refuse urllib's default agent


def digest_of(path: str | os.PathLike[str], algorithm: str = "md5") -> str:
    """The hex digest (``algorithm`` of hashlib) of the file at ``path``, read in chunks so large files need little memory."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5_of(path: str | os.PathLike[str]) -> str:
    """The MD5 hex digest of the file at ``path``: what published datasets are checked against."""
    return digest_of(path, "md5")


def verified(path: str | os.PathLike[str], md5: str) -> bool:
    """Whether ``path`` is a file whose MD5 is ``md5``: a download that need not be repeated."""
    path = Path(path)
    return path.is_file() and md5_of(path) == _check_md5(md5)


def _check_md5(md5: str) -> str:
    if not isinstance(md5, str) or not _MD5.fullmatch(md5):
        raise ValueError(f"md5 must be 32 hexadecimal digits, got {md5!r}")
    return md5.lower()


def _download(url: str, file: object, timeout: float) -> str:
    """Write ``url`` into the open binary ``file``; return the MD5 of what was written."""
    digest = hashlib.md5()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            digest.update(chunk)
            file.write(chunk)  # type: ignore[attr-defined]
    return digest.hexdigest()


def fetch(urls: Sequence[str], destination: str | os.PathLike[str], md5: str, timeout: float = 60.0) -> Path:
    """Download ``destination`` from the first of ``urls`` that serves a file with MD5 ``md5``; return its path.

    Each attempt goes to a temporary file beside ``destination`` that replaces it only once its
    checksum matches, so an interrupted or corrupt download never passes for the real file. A
    file already at ``destination`` with the right MD5 is kept as it is. If no mirror serves the
    file, a RuntimeError names it with every URL tried and why each failed.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    if not urls or not all(isinstance(url, str) and url for url in urls):
        raise ValueError(f"fetch needs at least one URL (non-empty strings), got {urls!r}")
    md5 = _check_md5(md5)
    destination = Path(destination)
    if verified(destination, md5):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for url in urls:
        handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                got = _download(url, file, timeout)
            if got != md5:
                failures.append(f"{url}: checksum mismatch (MD5 {got}, expected {md5})")
                continue
            publish_mode(temporary)  # mkstemp made it 0600: give it the mode the user's umask asks for
            os.replace(temporary, destination)
            return destination
        # URLError, HTTPError and timeouts are OSErrors; IncompleteRead an HTTPException; ValueError a malformed URL
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {type(error).__name__}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise RuntimeError(f"could not download {destination.name} to {destination}; tried:\n  " + "\n  ".join(failures))


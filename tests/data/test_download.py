import hashlib
import os
import urllib.request

import pytest

from spikedyn.data.download import fetch, md5_of, verified

CONTENT = b"the published file\n" * 1000


@pytest.fixture
def mirrors(tmp_path):
    """file:// URLs of a good copy, a corrupt copy and a file that does not exist (no network involved)."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "good.bin").write_bytes(CONTENT)
    (served / "corrupt.bin").write_bytes(CONTENT[:-1] + b"?")
    return {
        "good": (served / "good.bin").as_uri(),
        "corrupt": (served / "corrupt.bin").as_uri(),
        "missing": (served / "missing.bin").as_uri(),
    }


MD5 = hashlib.md5(CONTENT).hexdigest()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_md5_of_is_the_md5_of_the_bytes_and_verified_checks_it(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(CONTENT * 200)  # several read chunks
    assert md5_of(path) == hashlib.md5(CONTENT * 200).hexdigest()
    assert verified(path, hashlib.md5(CONTENT * 200).hexdigest().upper())
    assert not verified(path, MD5)
    assert not verified(tmp_path / "absent", MD5)


def test_a_good_file_lands_in_place_and_nothing_else_is_left(tmp_path, mirrors):
    destination = tmp_path / "out" / "sub" / "file.bin"
    previous = os.umask(0o022)
    try:
        assert fetch([mirrors["good"]], destination, MD5) == destination
    finally:
        os.umask(previous)
    assert destination.stat().st_mode & 0o777 == 0o644  # readable by colleagues, as the umask allows
    assert destination.read_bytes() == CONTENT
    assert leftovers(destination.parent) == ["file.bin"]


def test_a_bad_checksum_is_refused_and_leaves_no_file(tmp_path, mirrors):
    destination = tmp_path / "out" / "file.bin"
    with pytest.raises(RuntimeError) as caught:
        fetch([mirrors["corrupt"]], destination, MD5)
    message = str(caught.value)
    assert "file.bin" in message and mirrors["corrupt"] in message and "checksum mismatch" in message
    assert leftovers(destination.parent) == []


def test_mirrors_are_tried_in_order_until_one_serves_the_right_file(tmp_path, mirrors, monkeypatch):
    opened = []
    urlopen = urllib.request.urlopen

    def recording_urlopen(request, timeout):
        opened.append(request.full_url)
        return urlopen(request, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", recording_urlopen)
    destination = tmp_path / "out" / "file.bin"
    fetch([mirrors["missing"], mirrors["corrupt"], mirrors["good"], mirrors["missing"]], destination, MD5)
    assert opened == [mirrors["missing"], mirrors["corrupt"], mirrors["good"]]
    assert destination.read_bytes() == CONTENT
    assert leftovers(destination.parent) == ["file.bin"]


def test_when_every_mirror_fails_the_error_names_each_url_and_reason(tmp_path, mirrors):
    destination = tmp_path / "file.bin"
    with pytest.raises(RuntimeError) as caught:
        fetch([mirrors["missing"], mirrors["corrupt"]], destination, MD5)
    lines = str(caught.value).splitlines()
    assert str(destination) in lines[0]
    assert mirrors["missing"] in lines[1] and "URLError" in lines[1]
    assert mirrors["corrupt"] in lines[2] and hashlib.md5(CONTENT[:-1] + b"?").hexdigest() in lines[2]
    assert leftovers(tmp_path) == ["served"]


def test_a_verified_file_is_kept_without_downloading(tmp_path, mirrors):
    destination = tmp_path / "file.bin"
    destination.write_bytes(CONTENT)
    assert fetch([mirrors["missing"]], destination, MD5) == destination


def test_a_wrong_file_in_place_is_replaced_by_the_verified_download(tmp_path, mirrors):
    destination = tmp_path / "file.bin"
    destination.write_bytes(b"an interrupted download")
    fetch([mirrors["good"]], destination, MD5)
    assert destination.read_bytes() == CONTENT


@pytest.mark.parametrize("urls, md5", [([], MD5), ([""], MD5), (["file:///x"], "not-an-md5"), (["file:///x"], MD5[:-1])])
def test_bad_arguments_are_refused(tmp_path, urls, md5):
    with pytest.raises(ValueError):
        fetch(urls, tmp_path / "file.bin", md5)

"""Drills with hostile files: a pickle that runs code, archives whose members escape their folder."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import pytest

from spikedyn.data.static.files import read_cifar_batch
from tests.data.static_writers import cifar_batches, random_set

ARCHIVE = "cifar-10-python.tar.gz"
pytestmark = pytest.mark.drill


class _CreatesAFile:
    """Unpickling this opens ``path`` for writing, which creates it: proof that the pickle's code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_batch_whose_unpickling_would_create_a_file_is_refused_without_running_it(tmp_path, protocol):
    marker = tmp_path / "created_by_the_pickle"
    payload = pickle.dumps({b"data": _CreatesAFile(marker), b"labels": []}, protocol=protocol)
    pickle.loads(payload)
    assert marker.exists(), "the drill's payload does not run code: it proves nothing"
    marker.unlink()
    batch = tmp_path / "data_batch_1"
    batch.write_bytes(payload)
    with pytest.raises(ValueError, match=rf"{batch} is not a readable CIFAR-10 batch .*names (builtins|io).open"):
        read_cifar_batch(batch)
    assert not marker.exists()


def test_the_dataset_refuses_a_malicious_batch_among_good_ones(tmp_path):
    from spikedyn.data import build_dataset

    folder = tmp_path / "CIFAR10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, data in cifar_batches(random_set(3, (3, 32, 32))).items():
        (folder / name).write_bytes(data)
    marker = tmp_path / "created_by_the_pickle"
    (folder / "data_batch_4").write_bytes(pickle.dumps({b"data": _CreatesAFile(marker), b"labels": []}, protocol=2))
    with pytest.raises(ValueError, match="data_batch_4"):
        build_dataset("cifar10", "train", root=str(tmp_path))
    assert not marker.exists()


def _member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"x", link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root`` (links not followed): a link's target, a file's bytes, a folder's name."""
    return {
        str(p.relative_to(root)): str(p.readlink()) if p.is_symlink() else (p.read_bytes() if p.is_file() else "folder")
        for p in sorted(root.rglob("*"))
    }


def _hostile_archives(root: Path) -> dict[str, list[tuple[tarfile.TarInfo, bytes]]]:
    inside = "cifar-10-batches-py"
    victim = root / "victim.txt"
    return {
        "a ../ member": [_member(f"{inside}/"), _member(f"{inside}/../../escaped")],
        "a deep ../ member": [_member(f"{inside}/../../../../../../../../tmp/escaped_by_drill")],
        "an absolute member": [_member(str(root / "absolute_escape"))],
        "a link to a file outside": [_member(f"{inside}/data_batch_1", tarfile.SYMTYPE, link=str(victim))],
        "a relative link climbing out": [_member(f"{inside}/data_batch_1", tarfile.SYMTYPE, link="../../../victim.txt")],
        "a hard link outside": [_member(f"{inside}/data_batch_1", tarfile.LNKTYPE, link="../../victim.txt")],
        "a write through a link": [
            _member(f"{inside}/escape", tarfile.SYMTYPE, link=str(root)),
            _member(f"{inside}/escape/victim.txt", data=b"overwritten"),
        ],
        "a link that stays inside": [_member(f"{inside}/test_batch"), _member(f"{inside}/data_batch_1", tarfile.SYMTYPE, link="test_batch")],
        "a device": [_member(f"{inside}/data_batch_1", tarfile.CHRTYPE)],
    }


@pytest.mark.parametrize("hostile", list(_hostile_archives(Path("placeholder"))))  # the names; each test builds its own
def test_an_archive_member_escaping_the_folder_is_refused_and_nothing_is_written_outside(tmp_path, hostile):
    from spikedyn.data import build_dataset

    (tmp_path / "victim.txt").write_text("original")
    archive = _archive(tmp_path / "CIFAR10" / ARCHIVE, _hostile_archives(tmp_path)[hostile])
    before = _tree(tmp_path)
    with pytest.raises(ValueError, match=rf"{archive} cannot be unpacked"):
        build_dataset("cifar10", "train", root=str(tmp_path))
    assert _tree(tmp_path) == before  # not a file more, changed or linked anywhere, the CIFAR10 folder included
    assert not Path("/tmp/escaped_by_drill").exists()

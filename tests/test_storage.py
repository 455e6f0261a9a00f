"""The filesystem repository: blob first, row second, and nothing partial left behind."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
import typing as t

import pytest

from secureserver.fieldcipher import FieldCipher
from secureserver.storage import FileNotFound
from secureserver.storage import FilePage
from secureserver.storage import FileQuery
from secureserver.storage import FilesystemRepository
from secureserver.storage import NewFile
from secureserver.storage import StorageError
from secureserver.storage import StorageFull
from secureserver.storage import blobs
from secureserver.storage.blobs import STALE_AFTER_SECONDS
from secureserver.storage.blobs import TEMP_PREFIX
from secureserver.storage.records import is_file_id
from secureserver.storage.records import new_file_id

if t.TYPE_CHECKING:
    from pathlib import Path

    from secureserver.storage import FileRecord


FIELD_CIPHER = FieldCipher([bytes(range(32))])


def field_cipher() -> FieldCipher:
    return FIELD_CIPHER


@pytest.fixture
def repository(tmp_path: Path) -> FilesystemRepository:
    return FilesystemRepository(tmp_path / "storage", tmp_path / "files.sqlite3", field_cipher)


def listing(repository: FilesystemRepository) -> list[str]:
    return sorted(p.name for p in repository.blobs.directory.iterdir())


def describe(data: bytes, name: str = "f.bin") -> NewFile:
    return NewFile(
        name=name,
        content_type="application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        blob_tag=b"\x01" * 32,
    )


def store(repository: FilesystemRepository, *datas: bytes) -> list[FileRecord]:
    with repository.begin() as batch:
        for i, data in enumerate(datas):
            blob = batch.new_blob()
            blob.write(data)
            batch.add(blob, describe(data, f"{i}.bin"))
        return batch.commit()


def test_commit_publishes_blobs_and_rows(repository: FilesystemRepository) -> None:
    records = store(repository, b"one", b"two")
    assert listing(repository) == sorted(f"{r.id}.age" for r in records)
    for record, data in zip(records, (b"one", b"two"), strict=True):
        assert repository.get(record.id) == record
        with repository.open_blob(record.id) as blob:
            assert blob.read() == data
    assert repository.count() == 2


def test_leaving_without_commit_removes_temps(repository: FilesystemRepository) -> None:
    with repository.begin() as batch:
        blob = batch.new_blob()
        blob.write(b"half")
        batch.add(blob, describe(b"half"))
        batch.new_blob().write(b"never added")
        assert len(listing(repository)) == 2
    assert listing(repository) == []
    assert repository.count() == 0


def test_exception_in_batch_removes_temps(repository: FilesystemRepository) -> None:
    with pytest.raises(RuntimeError), repository.begin() as batch:
        batch.new_blob().write(b"data")
        raise RuntimeError("client went away")
    assert listing(repository) == []


def test_failed_metadata_insert_unpublishes(
    repository: FilesystemRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    def insert(records: t.Any) -> None:
        raise StorageError("database is locked")

    monkeypatch.setattr(repository.metadata, "insert", insert)
    with pytest.raises(StorageError), repository.begin() as batch:
        for data in (b"one", b"two"):
            blob = batch.new_blob()
            blob.write(data)
            batch.add(blob, describe(data))
        batch.commit()
    assert listing(repository) == []
    assert repository.count() == 0


def test_blob_from_another_batch_refused(repository: FilesystemRepository) -> None:
    with repository.begin() as first, repository.begin() as second:
        blob = first.new_blob()
        with pytest.raises(StorageError):
            second.add(blob, describe(b""))
    assert listing(repository) == []


@pytest.mark.parametrize(
    ("code", "error"),
    [(errno.ENOSPC, StorageFull), (errno.EDQUOT, StorageFull), (errno.EIO, StorageError)],
)
def test_write_errors(
    repository: FilesystemRepository,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    error: type[Exception],
) -> None:
    def write(fd: int, data: t.Any) -> int:
        raise OSError(code, os.strerror(code))

    with pytest.raises(error), repository.begin() as batch:
        blob = batch.new_blob()
        monkeypatch.setattr(blobs.os, "write", write)
        blob.write(b"data")
    monkeypatch.undo()
    assert listing(repository) == []


def test_sync_error_when_disk_full(
    repository: FilesystemRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(StorageFull), repository.begin() as batch:
        blob = batch.new_blob()
        blob.write(b"data")
        monkeypatch.setattr(blobs.os, "fsync", fsync)
        batch.add(blob, describe(b"data"))
    monkeypatch.undo()
    assert listing(repository) == []


def test_reserve_checked_while_writing(
    repository: FilesystemRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "FREE_SPACE_CHECK_INTERVAL", 1000)
    with pytest.raises(StorageFull), repository.begin() as batch:
        blob = batch.new_blob()
        blob.write(b"x" * 999)
        repository.blobs.reserve_bytes = 2**62
        blob.write(b"x" * 2)
    assert listing(repository) == []


def test_require_free_space(repository: FilesystemRepository) -> None:
    free = repository.blobs.free_bytes()
    assert free > 0
    repository.blobs.require_free_space(0)
    with pytest.raises(StorageFull, match="bytes free"):
        repository.blobs.require_free_space(free + 2**40)
    with pytest.raises(StorageFull):
        repository.begin(expected_bytes=free + 2**40)
    repository.blobs.reserve_bytes = 2**62
    with pytest.raises(StorageFull):
        repository.begin()
    with pytest.raises(StorageFull):
        repository.check_writable()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_sweep_stale_temps(repository: FilesystemRepository) -> None:
    directory = repository.blobs.directory
    stale = directory / f"{TEMP_PREFIX}stale"
    young = directory / f"{TEMP_PREFIX}young"
    stale.write_bytes(b"left by a dead worker")
    young.write_bytes(b"its writer may not hold the lock yet")
    _age(stale, STALE_AFTER_SECONDS + 60)
    live = repository.blobs.create_temp()
    try:
        live.write(b"being written")
        _age(live.path, STALE_AFTER_SECONDS + 60)
        assert repository.blobs.sweep_stale_temps() == 1
        assert listing(repository) == sorted([young.name, live.path.name])
    finally:
        live.discard()
    assert listing(repository) == [young.name]


def test_new_repository_sweeps(tmp_path: Path) -> None:
    first = FilesystemRepository(tmp_path / "storage", tmp_path / "files.sqlite3", field_cipher)
    (record,) = store(first, b"kept")
    stale = first.blobs.directory / f"{TEMP_PREFIX}crashed"
    stale.write_bytes(b"x")
    _age(stale, STALE_AFTER_SECONDS + 1)
    second = FilesystemRepository(tmp_path / "storage", tmp_path / "files.sqlite3", field_cipher)
    assert listing(second) == [f"{record.id}.age"]
    assert second.get(record.id) == record


def test_list_newest_first_and_pages(repository: FilesystemRepository) -> None:
    records = [store(repository, bytes([i]))[0] for i in range(5)]
    newest_first = records[::-1]
    assert repository.find(FileQuery()) == FilePage(newest_first, 5)
    assert repository.find(FileQuery(limit=2)).records == newest_first[:2]
    assert repository.find(FileQuery(limit=2, offset=3)).records == newest_first[3:]
    assert repository.find(FileQuery(offset=5)) == FilePage([], 5)
    assert repository.count() == 5


def test_delete(repository: FilesystemRepository) -> None:
    kept, gone = store(repository, b"kept", b"gone")
    repository.delete(gone.id)
    assert listing(repository) == [f"{kept.id}.age"]
    assert repository.find(FileQuery()).records == [kept]
    with pytest.raises(FileNotFound):
        repository.get(gone.id)
    with pytest.raises(FileNotFound):
        repository.delete(gone.id)
    with pytest.raises(FileNotFound):
        repository.open_blob(gone.id)


@pytest.mark.parametrize("method", ["get", "delete", "open_blob"])
def test_unknown_id(repository: FilesystemRepository, method: str) -> None:
    with pytest.raises(FileNotFound):
        getattr(repository, method)("A" * 22)


def test_modes(tmp_path: Path, repository: FilesystemRepository) -> None:
    (record,) = store(repository, b"secret")

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(tmp_path / "files.sqlite3") == 0o600
    assert mode(tmp_path / "storage") == 0o700
    assert mode(repository.blobs.path_of(record.id)) == 0o600


def test_new_ids_never_look_like_options() -> None:
    ids = [new_file_id() for _ in range(2000)]
    assert all(is_file_id(i) and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)

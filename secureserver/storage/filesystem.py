"""The repository on a local disk: blobs in a folder, metadata in SQLite.

This is the only place that orders the two: a blob is written, fsynced and renamed first,
the metadata row is committed second. A crash in between leaves an unlisted blob (an orphan
that an integrity scrub can report), never a listed file without its data.
"""

from __future__ import annotations

import shutil
import typing as t
from datetime import UTC
from datetime import datetime

from .blobs import BlobStore
from .blobs import TempBlob
from .errors import FileNotFound
from .errors import StorageError
from .metadata import MetadataStore
from .records import FileRecord
from .records import StorageStats
from .records import new_file_id
from .repository import FileRepository
from .repository import PendingBlob
from .repository import UploadBatch

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from pathlib import Path

    from ..fieldcipher import FieldCipher
    from .records import FilePage
    from .records import FileQuery
    from .records import NewFile


# The layout of a backup mirrors the instance folder, so restoring is two copies.
BACKUP_DATABASE = "secureserver.sqlite3"
BACKUP_STORAGE = "storage"


class FilesystemBlob(PendingBlob):
    """A pending blob backed by a locked temporary file."""

    def __init__(self, temp: TempBlob) -> None:
        self.temp = temp

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self.temp.write(data)


class FilesystemBatch(UploadBatch):
    """Temporary blobs that become listed files together in :meth:`commit`."""

    def __init__(self, blobs: BlobStore, metadata: MetadataStore) -> None:
        self._blobs = blobs
        self._metadata = metadata
        self._started: list[FilesystemBlob] = []
        self._ready: list[tuple[FilesystemBlob, NewFile]] = []

    def new_blob(self) -> FilesystemBlob:
        blob = FilesystemBlob(self._blobs.create_temp())
        self._started.append(blob)
        return blob

    def add(self, blob: PendingBlob, description: NewFile) -> None:
        if not isinstance(blob, FilesystemBlob) or blob not in self._started:
            raise StorageError("this blob was not started by this batch")
        blob.temp.sync()
        self._ready.append((blob, description))

    def commit(self) -> list[FileRecord]:
        now = datetime.now(UTC)
        records = [_record(new_file_id(), description, now) for _, description in self._ready]
        published = []
        try:
            for (blob, _), record in zip(self._ready, records, strict=True):
                published.append(self._blobs.publish(blob.temp, record.id))
            self._blobs.sync_directory()
            self._metadata.insert(records)
        except BaseException:
            for path in published:
                path.unlink(missing_ok=True)
            raise
        self._started.clear()
        self._ready.clear()
        return records

    def abort(self) -> None:
        for blob in self._started:
            blob.temp.discard()
        self._started.clear()
        self._ready.clear()


def _record(file_id: str, description: NewFile, uploaded_at: datetime) -> FileRecord:
    return FileRecord(
        id=file_id,
        name=description.name,
        content_type=description.content_type,
        size=description.size,
        sha256=description.sha256,
        blob_tag=description.blob_tag,
        uploaded_at=uploaded_at,
    )


class FilesystemRepository(FileRepository):
    """Files stored under ``storage/`` with their metadata in ``secureserver.sqlite3``."""

    def __init__(
        self,
        storage_dir: Path,
        database: Path,
        cipher: Callable[[], FieldCipher],
        reserve_bytes: int = 0,
    ) -> None:
        self.blobs = BlobStore(storage_dir, reserve_bytes)
        self.metadata = MetadataStore(database, cipher)
        self.blobs.sweep_stale_temps()

    def begin(self, expected_bytes: int | None = None) -> FilesystemBatch:
        self.blobs.require_free_space(expected_bytes or 0)
        return FilesystemBatch(self.blobs, self.metadata)

    def get(self, file_id: str) -> FileRecord:
        return self.metadata.get(file_id)

    def open_blob(self, file_id: str) -> t.BinaryIO:
        return self.blobs.open(file_id)

    def find(self, query: FileQuery) -> FilePage:
        return self.metadata.find(query)

    def count(self) -> int:
        return self.metadata.count()

    def delete(self, file_id: str) -> None:
        self.metadata.delete(file_id)
        self.blobs.delete(file_id)

    def rewrite_blob(
        self, file_id: str, rewrite: Callable[[t.BinaryIO, PendingBlob], None]
    ) -> None:
        self.metadata.get(file_id)
        self.blobs.rewrite(file_id, lambda source, temp: rewrite(source, FilesystemBlob(temp)))
        try:
            self.metadata.get(file_id)
        except FileNotFound:
            # Deleted while being rewritten: the rename brought the blob back, remove it.
            self.blobs.delete(file_id)
            raise

    def reseal_metadata(self) -> int:
        return self.metadata.reseal()

    def blob_ids(self, min_age: float = 0.0) -> Iterator[str]:
        return self.blobs.ids(min_age)

    def delete_orphan_blob(self, blob_id: str) -> None:
        try:
            self.metadata.get(blob_id)
        except FileNotFound:
            self.blobs.delete(blob_id)
        else:
            raise StorageError(f"blob {blob_id} belongs to a listed file; not deleting it")

    def stats(self) -> StorageStats:
        files, size = self.metadata.totals()
        return StorageStats(files=files, bytes=size, free_bytes=self.blobs.free_bytes())

    def backup(self, destination: Path) -> int:
        """Snapshot the database first, then copy the blobs its rows name.

        Blobs are never modified in place (a rotation replaces them whole), so a copy taken
        after the snapshot matches it; a file deleted in between has its row dropped from the
        snapshot, so the backup never lists a file it does not hold.
        """
        destination.mkdir(mode=0o700, parents=True)
        snapshot = self.metadata.snapshot(destination / BACKUP_DATABASE)
        blobs = BlobStore(destination / BACKUP_STORAGE)
        kept = 0
        for file_id in snapshot.ids():
            try:
                shutil.copyfile(self.blobs.path_of(file_id), blobs.path_of(file_id))
            except FileNotFoundError:
                snapshot.delete(file_id)
                continue
            kept += 1
        blobs.sync_directory()
        return kept

    def check_writable(self) -> None:
        self.metadata.check_writable()
        self.blobs.check_writable()

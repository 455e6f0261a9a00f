"""The repository on a local disk: blobs in a folder, metadata in SQLite.

This is the only place that orders the two: a blob is written, fsynced and renamed first,
the metadata row is committed second. A crash in between leaves an unlisted blob (an orphan
that an integrity scrub can report), never a listed file without its data.
"""

from __future__ import annotations

import typing as t
from datetime import UTC
from datetime import datetime

from .blobs import BlobStore
from .blobs import TempBlob
from .errors import StorageError
from .metadata import MetadataStore
from .records import FileRecord
from .records import new_file_id
from .repository import FileRepository
from .repository import PendingBlob
from .repository import UploadBatch

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ..fieldcipher import FieldCipher
    from .records import FilePage
    from .records import FileQuery
    from .records import NewFile


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

    def check_writable(self) -> None:
        self.metadata.check_writable()
        self.blobs.check_writable()

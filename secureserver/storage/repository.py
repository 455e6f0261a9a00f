"""The storage interface the web layer talks to: streaming put, get, delete, list and stat.

Blueprints and services only know these abstract classes. The filesystem implementation
lives in :mod:`.filesystem`; an object-store implementation (S3 and friends) can be added
next to it without touching any caller, as long as it keeps the one promise this module
states: a file is listed only after its whole ciphertext is durably stored.
"""

from __future__ import annotations

import abc
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from pathlib import Path
    from types import TracebackType

    from .records import FilePage
    from .records import FileQuery
    from .records import FileRecord
    from .records import NewFile
    from .records import StorageStats


class PendingBlob(abc.ABC):
    """A blob being written: a write-only sink for ciphertext, invisible until committed."""

    @abc.abstractmethod
    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``; return how many bytes were taken (always all of them).

        :raises StorageFull: when the storage runs out of room.
        """


class UploadBatch(abc.ABC):
    """Files written together and published together, or not at all.

    Use it as a context manager: leaving the block without :meth:`commit` (an exception, a
    client that went away) removes every blob it started.
    """

    @abc.abstractmethod
    def new_blob(self) -> PendingBlob:
        """Start a new blob in this batch."""

    @abc.abstractmethod
    def add(self, blob: PendingBlob, description: NewFile) -> None:
        """Declare ``blob`` complete, make it durable and remember what it holds."""

    @abc.abstractmethod
    def commit(self) -> list[FileRecord]:
        """Publish every added blob and its metadata in one step; return the new records."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Remove everything this batch wrote. Safe to call more than once."""

    def __enter__(self) -> t.Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()


class FileRepository(abc.ABC):
    """Where encrypted files and their metadata live."""

    @abc.abstractmethod
    def begin(self, expected_bytes: int | None = None) -> UploadBatch:
        """Start an upload batch.

        :param expected_bytes: how much the batch will roughly write, when known (the
            request's Content-Length), so that a full disk is reported before any writing.
        :raises StorageFull: when there is not enough room.
        """

    @abc.abstractmethod
    def get(self, file_id: str) -> FileRecord:
        """Return the record of one file.

        :raises FileNotFound: when there is no such file.
        """

    @abc.abstractmethod
    def open_blob(self, file_id: str) -> t.BinaryIO:
        """Open the ciphertext of a file for reading; the caller closes it.

        :raises FileNotFound: when the blob is missing.
        """

    @abc.abstractmethod
    def find(self, query: FileQuery) -> FilePage:
        """Return one page of records in the query's order, and how many match in all."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return how many files are stored."""

    @abc.abstractmethod
    def delete(self, file_id: str) -> None:
        """Remove a file: first from the listing, then its blob.

        :raises FileNotFound: when there is no such file.
        """

    @abc.abstractmethod
    def rewrite_blob(
        self, file_id: str, rewrite: Callable[[t.BinaryIO, PendingBlob], None]
    ) -> None:
        """Replace a file's blob by what ``rewrite`` writes while reading the old one.

        The replacement is atomic: downloads see the old blob or the new one, never a mix.
        Used by key rotation, which rewrites headers and copies payloads.

        :raises FileNotFound: when the file or its blob is missing.
        """

    @abc.abstractmethod
    def reseal_metadata(self) -> int:
        """Seal every metadata value again with the current key; return how many rows changed."""

    @abc.abstractmethod
    def blob_ids(self, min_age: float = 0.0) -> Iterator[str]:
        """Yield the id of every blob in storage, listed or not (for integrity checks).

        :param min_age: skip blobs younger than this many seconds, such as one whose upload
            is committing its metadata row right now.
        """

    @abc.abstractmethod
    def delete_orphan_blob(self, blob_id: str) -> None:
        """Remove a blob that has no metadata row.

        :raises StorageError: when the blob does have a row (it is not an orphan).
        """

    @abc.abstractmethod
    def stats(self) -> StorageStats:
        """Count files and bytes, and the room left."""

    @abc.abstractmethod
    def backup(self, destination: Path) -> int:
        """Write a consistent snapshot of metadata and blobs to ``destination``.

        :return: the number of files in the snapshot.
        """

    @abc.abstractmethod
    def check_writable(self) -> None:
        """Check that new files could be stored now.

        :raises StorageError: saying what is wrong.
        """

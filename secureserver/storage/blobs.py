"""Blob files on a local disk: the one durable-write recipe, and nothing else.

A blob is written to a temporary file in the storage folder itself (same filesystem, so the
final rename is atomic), made durable with ``fsync``, renamed to ``<id>.age`` and the folder
is fsynced so the rename survives a power cut. Temporary files hold an exclusive ``flock``
while they are being written: a sweep at start-up removes only those nobody holds, so a new
gunicorn worker never deletes an upload another worker is still receiving.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import time
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

from .errors import FileNotFound
from .errors import StorageError
from .errors import StorageFull
from .records import is_file_id

BLOB_SUFFIX = ".age"
TEMP_PREFIX = ".incoming-"
# A temporary file younger than this may belong to a writer that has not taken its lock yet.
STALE_AFTER_SECONDS = 60
# How often (in bytes written) a blob checks that the disk still has its reserve left.
FREE_SPACE_CHECK_INTERVAL = 64 * 1024 * 1024


def _is_disk_full(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


class TempBlob:
    """A locked temporary ciphertext file, owned by one upload."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self.path = store.directory / f"{TEMP_PREFIX}{secrets.token_hex(16)}"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._written = 0
        self._next_space_check = FREE_SPACE_CHECK_INTERVAL

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data`` to the file.

        :raises StorageFull: when the disk fills up or falls below the reserve.
        """
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as e:
            if _is_disk_full(e):
                raise StorageFull("the storage disk is full") from e
            raise StorageError(f"cannot write blob: {e.strerror}") from e
        self._written += len(data)
        if self._written >= self._next_space_check:
            self._next_space_check += FREE_SPACE_CHECK_INTERVAL
            self._store.require_free_space(0)
        return len(data)

    def sync(self) -> None:
        """Flush the file's contents to the disk."""
        try:
            os.fsync(self._fd)
        except OSError as e:
            if _is_disk_full(e):
                raise StorageFull("the storage disk is full") from e
            raise StorageError(f"cannot sync blob: {e.strerror}") from e

    def close(self) -> None:
        """Release the file descriptor (and with it the lock). Idempotent."""
        if self._fd >= 0:
            # Forget the number first: a late write must fail, not reach a reused descriptor.
            fd, self._fd = self._fd, -1
            os.close(fd)

    def discard(self) -> None:
        """Delete the temporary file. Idempotent."""
        self.path.unlink(missing_ok=True)
        self.close()


class BlobStore:
    """A folder of ``<id>.age`` files and their temporary predecessors."""

    def __init__(self, directory: Path, reserve_bytes: int = 0) -> None:
        self.directory = directory
        self.reserve_bytes = reserve_bytes
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_of(self, blob_id: str) -> Path:
        """Return where the blob with this (already validated) id lives."""
        return self.directory / f"{blob_id}{BLOB_SUFFIX}"

    def free_bytes(self) -> int:
        """Return the bytes available to this process on the storage disk."""
        info = os.statvfs(self.directory)
        return info.f_bavail * info.f_frsize

    def require_free_space(self, needed: int) -> None:
        """Refuse to go on when ``needed`` bytes would leave less than the reserve.

        :raises StorageFull: with the numbers, so an admin knows what to free.
        """
        free = self.free_bytes()
        if free - needed < self.reserve_bytes:
            raise StorageFull(
                f"not enough storage space: {free} bytes free, {needed} needed "
                f"plus a reserve of {self.reserve_bytes}"
            )

    def create_temp(self) -> TempBlob:
        """Start a new temporary blob, locked by this process."""
        return TempBlob(self)

    def publish(self, temp: TempBlob, blob_id: str) -> Path:
        """Atomically give a synced temporary blob its final name.

        The caller fsyncs the folder afterwards (once per batch, see :meth:`sync_directory`).
        """
        final = self.path_of(blob_id)
        os.replace(temp.path, final)
        temp.close()
        return final

    def sync_directory(self) -> None:
        """Make the renames in the folder durable."""
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open(self, blob_id: str) -> t.BinaryIO:
        """Open a blob for reading.

        :raises FileNotFound: when the blob does not exist.
        """
        try:
            return self.path_of(blob_id).open("rb")
        except FileNotFoundError as e:
            raise FileNotFound(f"blob {blob_id} is missing") from e

    def rewrite(self, blob_id: str, rewrite: Callable[[t.BinaryIO, TempBlob], None]) -> None:
        """Replace a blob by what ``rewrite`` writes while reading it, atomically.

        Readers that have the old blob open keep reading it; new readers see the new one.

        :raises FileNotFound: when the blob does not exist.
        """
        temp = self.create_temp()
        try:
            with self.open(blob_id) as source:
                rewrite(source, temp)
            temp.sync()
            self.publish(temp, blob_id)
            self.sync_directory()
        except BaseException:
            temp.discard()
            raise

    def delete(self, blob_id: str) -> None:
        """Remove a blob; a reader that has it open keeps reading until it closes it."""
        self.path_of(blob_id).unlink(missing_ok=True)
        self.sync_directory()

    def check_writable(self) -> None:
        """Check that blobs can be created in the folder now.

        :raises StorageError: when the folder is not writable.
        :raises StorageFull: when the disk is below its reserve.
        """
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise StorageError("the storage folder is not writable")
        self.require_free_space(0)

    def ids(self, min_age: float = 0.0) -> Iterator[str]:
        """Yield the id of every published blob in the folder, at least ``min_age`` seconds old."""
        cutoff = time.time() - min_age
        for path in self.directory.glob(f"*{BLOB_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if is_file_id(path.stem) and path.stat().st_mtime <= cutoff:
                    yield path.stem

    def sweep_stale_temps(self) -> int:
        """Remove temporary files left by uploads that died; return how many were removed."""
        removed = 0
        cutoff = time.time() - STALE_AFTER_SECONDS
        for path in self.directory.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff and self._remove_if_unlocked(path):
                    removed += 1
        return removed

    @staticmethod
    def _remove_if_unlocked(path: Path) -> bool:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        else:
            path.unlink()
            return True
        finally:
            os.close(fd)

"""The storage layer's errors: one base class, so callers can catch them all at once."""

from __future__ import annotations


class StorageError(Exception):
    """Storage could not complete an operation; nothing partial was kept."""


class StorageFull(StorageError):
    """The storage disk has no room (or would drop below its reserve) for this upload."""


class FileNotFound(StorageError):
    """No file with this id exists (or it was deleted meanwhile)."""

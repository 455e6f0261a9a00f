"""What the repository knows about a stored file, and how file ids are made."""

from __future__ import annotations

import re
import secrets
import typing as t
from dataclasses import dataclass
from datetime import datetime

# 16 random bytes (128 bits) in URL-safe base64 without padding: 22 characters.
FILE_ID_BYTES = 16
FILE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")


def new_file_id() -> str:
    """Return a fresh random id, unguessable and safe in URLs, file names and shells.

    An id that begins with ``-`` would read as an option to the commands it is given to
    (``flask --app secureserver export -x…``), so such ids are drawn again; an id keeps
    more than 131 random bits.
    """
    while (file_id := secrets.token_urlsafe(FILE_ID_BYTES)).startswith("-"):
        pass
    return file_id


def is_file_id(candidate: str) -> bool:
    """Tell whether ``candidate`` has the shape of an id, before any lookup uses it."""
    return FILE_ID_PATTERN.fullmatch(candidate) is not None


@dataclass(frozen=True)
class NewFile:
    """The description of a file whose ciphertext has been written but not yet published.

    :param blob_tag: a value derived from the blob's file key; stored so that a download
        can check that the blob it opens is the one written for this row, and still true
        after a key rotation rewrites the blob's header (see ``transfers.open_file``).
    """

    name: str
    content_type: str
    size: int
    sha256: str
    blob_tag: bytes


@dataclass(frozen=True)
class FileRecord:
    """A stored, listed file."""

    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    blob_tag: bytes
    uploaded_at: datetime


SortKey: t.TypeAlias = t.Literal["uploaded_at", "name", "size"]
SORT_KEYS: tuple[SortKey, ...] = t.get_args(SortKey)


@dataclass(frozen=True)
class FileQuery:
    """Which records to list: an optional name filter, an order, and a page.

    :param contains: keep names containing this text, compared case-insensitively.
    :param limit: the page size; None for every match.
    """

    sort: SortKey = "uploaded_at"
    descending: bool = True
    contains: str | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class FilePage:
    """One page of records, and how many records match the query in all."""

    records: list[FileRecord]
    total: int


@dataclass(frozen=True)
class StorageStats:
    """How much is stored, and how much room is left."""

    files: int
    bytes: int
    free_bytes: int

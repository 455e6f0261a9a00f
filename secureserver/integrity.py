"""Integrity scrub: authenticate every chunk of every stored file, and find stray blobs.

Silent corruption (a failing disk, a bad copy, someone editing ``storage/``) is found when
a download fails, which may be years later. The scrub reads each file the way a download
does, through :func:`~secureserver.transfers.open_file`, so it checks exactly what clients
rely on: header, blob tag, size, and every chunk's tag.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .crypto import DecryptionError
from .storage import FileNotFound
from .storage import StorageError
from .transfers import open_file

if t.TYPE_CHECKING:
    from .storage import FileRecord
    from .storage import FileRepository
    from .vault import Vault


# A blob published this recently may belong to an upload whose row is being committed.
ORPHAN_MIN_AGE = 60.0


@dataclass(frozen=True)
class Problem:
    """Something wrong with one file or blob."""

    file_id: str
    kind: t.Literal["missing", "corrupt", "orphan"]
    detail: str


def check_file(vault: Vault, repository: FileRepository, record: FileRecord) -> Problem | None:
    """Read one file to the end, authenticating it; return what is wrong, if anything."""
    try:
        outgoing = open_file(vault, repository, record.id)
        try:
            for _ in outgoing.chunks:
                pass
        finally:
            outgoing.chunks.close()
    except FileNotFound:
        return Problem(record.id, "missing", "the file's blob is missing")
    except (DecryptionError, StorageError) as e:
        return Problem(record.id, "corrupt", str(e))
    return None


def find_orphans(repository: FileRepository, listed: set[str]) -> list[Problem]:
    """Return the blobs in storage that no listed file owns.

    :param listed: the ids of every listed file, read before the blobs are. Blobs younger
        than :data:`ORPHAN_MIN_AGE` are left out: an upload may be committing its row.
    """
    return [
        Problem(blob_id, "orphan", "a blob without metadata")
        for blob_id in sorted(repository.blob_ids(min_age=ORPHAN_MIN_AGE))
        if blob_id not in listed
    ]

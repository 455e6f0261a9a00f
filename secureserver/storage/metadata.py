"""File metadata in SQLite: every SQL statement of the project is in this module.

The database is shared by several gunicorn workers, each with several threads, so each
operation opens its own short-lived connection (cheap for a local file) instead of sharing
one across threads or forks. WAL lets readers proceed while a writer commits;
``synchronous=FULL`` makes a committed row survive a power cut, as the blob it points to
already does.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import typing as t
from datetime import UTC
from datetime import datetime
from importlib import resources

from .errors import FileNotFound
from .errors import StorageError
from .records import FilePage
from .records import FileRecord

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Sequence
    from pathlib import Path

    from .records import FileQuery

BUSY_TIMEOUT_SECONDS = 30.0
_INSERT = (
    "INSERT INTO files (id, name, content_type, size, sha256, header_mac, uploaded_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ONE = (
    "SELECT id, name, content_type, size, sha256, header_mac, uploaded_at FROM files WHERE id = ?"
)
_SELECT_ALL = "SELECT id, name, content_type, size, sha256, header_mac, uploaded_at FROM files"
# ORDER BY cannot take parameters: the clauses are spelled out, chosen by key, never built.
_ORDER_BY = {
    ("uploaded_at", True): " ORDER BY uploaded_at DESC, id",
    ("uploaded_at", False): " ORDER BY uploaded_at ASC, id",
    ("size", True): " ORDER BY size DESC, uploaded_at DESC, id",
    ("size", False): " ORDER BY size ASC, uploaded_at DESC, id",
}


def _record_from_row(row: sqlite3.Row) -> FileRecord:
    return FileRecord(
        id=row["id"],
        name=row["name"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        header_mac=row["header_mac"],
        uploaded_at=datetime.fromisoformat(row["uploaded_at"]),
    )


class MetadataStore:
    """The ``files`` table of ``secureserver.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # SQLite gives the -wal and -shm files the database's mode: make that owner-only.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        schema = resources.files(__package__).joinpath("schema.sql").read_text("utf-8")
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(schema)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open the metadata database: {e}") from e
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous = FULL")
            yield db
        except sqlite3.Error as e:
            raise StorageError(f"metadata database error: {e}") from e
        finally:
            db.close()

    def insert(self, records: Sequence[FileRecord]) -> None:
        """Add rows for ``records`` in a single transaction: all of them or none."""
        rows = [
            (r.id, r.name, r.content_type, r.size, r.sha256, r.header_mac, _iso(r.uploaded_at))
            for r in records
        ]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_INSERT, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def get(self, file_id: str) -> FileRecord:
        """Return one record.

        :raises FileNotFound: when no row has this id.
        """
        with self._connect() as db:
            row = db.execute(_SELECT_ONE, (file_id,)).fetchone()
        if row is None:
            raise FileNotFound(f"no file with id {file_id}")
        return _record_from_row(row)

    def find(self, query: FileQuery) -> FilePage:
        """Return the page of records ``query`` asks for, and the number of matches.

        Sorting by time or size and paging happen in SQL. A name filter or a sort by name
        is applied here instead, over every row: names are compared case-insensitively
        with full Unicode case folding, which SQLite's LIKE and lower() do not do.
        """
        order = _ORDER_BY.get((query.sort, query.descending))
        if order is not None and query.contains is None:
            with self._connect() as db:
                rows = db.execute(
                    _SELECT_ALL + order + " LIMIT ? OFFSET ?",
                    (-1 if query.limit is None else query.limit, query.offset),
                ).fetchall()
            return FilePage([_record_from_row(row) for row in rows], self.count())
        with self._connect() as db:
            rows = db.execute(_SELECT_ALL + _ORDER_BY["uploaded_at", True]).fetchall()
        return _page_in_python([_record_from_row(row) for row in rows], query)

    def count(self) -> int:
        """Return the number of rows."""
        with self._connect() as db:
            (count,) = db.execute("SELECT count(*) FROM files").fetchone()
        return int(count)

    def delete(self, file_id: str) -> None:
        """Remove one row.

        :raises FileNotFound: when no row has this id.
        """
        with self._connect() as db:
            deleted = db.execute("DELETE FROM files WHERE id = ?", (file_id,)).rowcount
        if deleted == 0:
            raise FileNotFound(f"no file with id {file_id}")

    def check_writable(self) -> None:
        """Take and release the write lock, proving the database accepts writes."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")


def _iso(moment: datetime) -> str:
    """Format a time in UTC with a fixed width, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _page_in_python(records: list[FileRecord], query: FileQuery) -> FilePage:
    """Filter, sort and page ``records`` (given newest first) the way SQL would."""
    if query.contains is not None:
        needle = query.contains.casefold()
        records = [r for r in records if needle in r.name.casefold()]
    if query.sort == "name":
        # Stable sort: equal names keep the newest-first order.
        records = sorted(records, key=lambda r: r.name.casefold(), reverse=query.descending)
    elif query.sort == "size":
        records = sorted(records, key=lambda r: r.size, reverse=query.descending)
    elif not query.descending:
        records = records[::-1]
    stop = None if query.limit is None else query.offset + query.limit
    return FilePage(records[query.offset : stop], len(records))

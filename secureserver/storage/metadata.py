"""File metadata in SQLite: every SQL statement of the project is in this module.

The database is shared by several gunicorn workers, each with several threads, so each
operation opens its own short-lived connection (cheap for a local file) instead of sharing
one across threads or forks. WAL lets readers proceed while a writer commits;
``synchronous=FULL`` makes a committed row survive a power cut, as the blob it points to
already does.

Names, media types and content hashes are sealed (see :mod:`secureserver.fieldcipher`)
before they reach SQLite and opened as rows come back; sizes and times stay clear, so the
database can still sort by them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import typing as t
from datetime import UTC
from datetime import datetime
from importlib import resources

from ..fieldcipher import FieldDecryptionError
from .errors import FileNotFound
from .errors import StorageError
from .records import FilePage
from .records import FileRecord

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Sequence
    from pathlib import Path

    from ..fieldcipher import FieldCipher
    from .records import FileQuery

BUSY_TIMEOUT_SECONDS = 30.0
_INSERT = (
    "INSERT INTO files (id, name, content_type, size, sha256, blob_tag, uploaded_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ONE = (
    "SELECT id, name, content_type, size, sha256, blob_tag, uploaded_at FROM files WHERE id = ?"
)
_UPDATE_SEALED = "UPDATE files SET name = ?, content_type = ?, sha256 = ? WHERE id = ?"
_SELECT_ALL = "SELECT id, name, content_type, size, sha256, blob_tag, uploaded_at FROM files"
# ORDER BY cannot take parameters: the clauses are spelled out, chosen by key, never built.
_ORDER_BY = {
    ("uploaded_at", True): " ORDER BY uploaded_at DESC, id",
    ("uploaded_at", False): " ORDER BY uploaded_at ASC, id",
    ("size", True): " ORDER BY size DESC, uploaded_at DESC, id",
    ("size", False): " ORDER BY size ASC, uploaded_at DESC, id",
}


SCHEMA_VERSION = 3
SEALED_COLUMNS = ("name", "content_type", "sha256")


class MetadataStore:
    """The ``files`` table of ``secureserver.sqlite3``.

    :param cipher: returns the cipher for sealed columns; called when rows are written or
        read, not before, because the identity it comes from may not exist yet when the
        application is built (``flask keygen`` runs the factory).
    """

    def __init__(self, path: Path, cipher: Callable[[], FieldCipher]) -> None:
        self.path = path
        self._cipher = cipher
        # SQLite gives the -wal and -shm files the database's mode: make that owner-only.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        schema = resources.files(__package__).joinpath("schema.sql").read_text("utf-8")
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            _check_schema_version(db)
            db.executescript(schema)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _row_values(self, record: FileRecord) -> tuple[t.Any, ...]:
        cipher = self._cipher()
        name, content_type, sha256 = (
            cipher.seal(getattr(record, column), row=record.id, column=column)
            for column in SEALED_COLUMNS
        )
        return (
            record.id,
            name,
            content_type,
            record.size,
            sha256,
            record.blob_tag,
            _iso(record.uploaded_at),
        )

    def _record(self, row: sqlite3.Row, cipher: FieldCipher) -> FileRecord:
        try:
            name, content_type, sha256 = (
                cipher.open(row[column], row=row["id"], column=column) for column in SEALED_COLUMNS
            )
        except FieldDecryptionError as e:
            raise StorageError(f"metadata of {row['id']} cannot be decrypted: {e}") from e
        return FileRecord(
            id=row["id"],
            name=name,
            content_type=content_type,
            size=row["size"],
            sha256=sha256,
            blob_tag=row["blob_tag"],
            uploaded_at=datetime.fromisoformat(row["uploaded_at"]),
        )

    def _records(self, rows: Iterable[sqlite3.Row]) -> list[FileRecord]:
        cipher = self._cipher()
        return [self._record(row, cipher) for row in rows]

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
        rows = [self._row_values(record) for record in records]
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
        return self._record(row, self._cipher())

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
            return FilePage(self._records(rows), self.count())
        with self._connect() as db:
            rows = db.execute(_SELECT_ALL + _ORDER_BY["uploaded_at", True]).fetchall()
        return _page_in_python(self._records(rows), query)

    def reseal(self) -> int:
        """Seal again, with the current key, every value sealed with another one.

        Rows are updated one by one, each in its own transaction, so uploads and downloads
        go on meanwhile; running it again after an interruption finishes the job.

        :return: how many rows were resealed.
        """
        with self._connect() as db:
            ids = [row["id"] for row in db.execute("SELECT id FROM files").fetchall()]
        cipher = self._cipher()
        resealed = 0
        for file_id in ids:
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(_SELECT_ONE, (file_id,)).fetchone()
                if row is None or all(cipher.is_current(row[c]) for c in SEALED_COLUMNS):
                    db.execute("ROLLBACK")
                    continue
                values = self._row_values(self._record(row, cipher))
                db.execute(_UPDATE_SEALED, (values[1], values[2], values[4], file_id))
                db.execute("COMMIT")
                resealed += 1
        return resealed

    def totals(self) -> tuple[int, int]:
        """Return the number of files and the sum of their sizes."""
        with self._connect() as db:
            (count, size) = db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM files"
            ).fetchone()
        return int(count), int(size)

    def ids(self) -> list[str]:
        """Return the id of every row."""
        with self._connect() as db:
            return [row["id"] for row in db.execute("SELECT id FROM files").fetchall()]

    def snapshot(self, destination: Path) -> MetadataStore:
        """Copy the database, consistently, to ``destination`` with SQLite's online backup.

        Writers may go on meanwhile; the copy is the database as of one moment.
        """
        os.close(os.open(destination, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        with self._connect() as db, contextlib.closing(sqlite3.connect(destination)) as copy:
            db.backup(copy)
        return MetadataStore(destination, self._cipher)

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


def _check_schema_version(db: sqlite3.Connection) -> None:
    """Refuse a database written by an older version, whose names are stored in clear."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    (tables,) = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'files'").fetchone()
    if tables and version != SCHEMA_VERSION:
        raise StorageError(
            f"the metadata database has format {version}, this server needs {SCHEMA_VERSION}; "
            "it was made by an older development version and cannot be opened"
        )


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

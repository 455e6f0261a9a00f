"""What happened, told once to both audiences: the event log and the metrics.

Blueprints call one function per action; each writes a structured event (see
:mod:`.events`) and moves the matching Prometheus counters (see :mod:`.metrics`).
"""

from __future__ import annotations

import logging
import typing as t

from . import metrics
from .events import event

if t.TYPE_CHECKING:
    from .storage import FileRecord
    from .transfers import OutgoingFile


def uploaded(records: list[FileRecord]) -> None:
    """Files were stored."""
    for record in records:
        event("upload", file_id=record.id, size=record.size)
    metrics.UPLOADS.inc(len(records))
    metrics.BYTES_IN.inc(sum(record.size for record in records))


def downloaded(outgoing: OutgoingFile) -> None:
    """A download (or a range of one) is about to be sent."""
    size = outgoing.stop - outgoing.start
    event("download", file_id=outgoing.record.id, size=size, partial=outgoing.partial)
    metrics.DOWNLOADS.inc()
    metrics.BYTES_OUT.inc(size)


def deleted(file_id: str) -> None:
    """A file was deleted."""
    event("delete", file_id=file_id)
    metrics.DELETES.inc()


def refused_password() -> None:
    """A wrong access password was sent."""
    event("auth_failure", logging.WARNING)


def integrity_failure(error: Exception) -> None:
    """A stored file failed authentication (the details stay in the log)."""
    event("integrity_failure", logging.ERROR, error=type(error).__name__, detail=str(error))

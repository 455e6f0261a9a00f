"""What happened, told once to both audiences: the event log and the metrics.

Blueprints call one function per action; each writes a structured event (see
:mod:`.events`) and moves the matching Prometheus counters (see :mod:`.metrics`).
"""

from __future__ import annotations

import logging
import typing as t

from flask import has_request_context
from flask import request

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


def integrity_failure(error: Exception, file_id: str | None = None) -> None:
    """A stored file failed authentication (the details stay in the log).

    :param file_id: the file, when the request's URL does not name it (a failure in the
        middle of a download is reported after the request's context is gone).
    """
    if file_id is None and has_request_context():
        file_id = (request.view_args or {}).get("file_id")
    event(
        "integrity_failure",
        logging.ERROR,
        file_id=file_id,
        error=type(error).__name__,
        detail=str(error),
    )

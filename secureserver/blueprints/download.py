"""Downloads: ``GET /download/<id>`` streams verified plaintext, never a temporary file.

Single byte ranges are honoured (``Range: bytes=...``, with ``If-Range``), so interrupted
downloads resume and media players can seek: decryption starts at the chunk that holds the
first byte asked for.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import Response
from flask import request
from werkzeug.datastructures import ContentRange
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from .. import activity
from ..filenames import content_disposition
from ..services import get_repository
from ..services import get_vault
from ..transfers import open_file
from ..transfers import whole_file

if t.TYPE_CHECKING:
    from ..storage import FileRecord

bp = Blueprint("download", __name__)


@bp.get("/download/<file_id:file_id>")
def file(file_id: str) -> Response:
    """Send one file (or one range of it) as an attachment, decrypting as it goes out."""
    outgoing = open_file(
        get_vault(),
        get_repository(),
        file_id,
        _requested_span,
        on_failure=lambda error: activity.integrity_failure(error, file_id),
    )
    activity.downloaded(outgoing)
    record = outgoing.record
    response = Response(
        outgoing.chunks,
        status=206 if outgoing.partial else 200,
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )
    response.content_length = outgoing.stop - outgoing.start
    if outgoing.partial:
        response.content_range = ContentRange("bytes", outgoing.start, outgoing.stop, record.size)
    response.accept_ranges = "bytes"
    response.headers["Content-Disposition"] = content_disposition(record.name)
    response.set_etag(record.sha256)
    response.last_modified = record.uploaded_at
    return response


def _requested_span(record: FileRecord) -> tuple[int, int]:
    """The byte span the client asked for: one range, or the whole file.

    Several ranges at once, other units, and a range whose ``If-Range`` no longer matches the
    file are answered with the whole file, as RFC 9110 allows.

    :raises RequestedRangeNotSatisfiable: when the range lies outside the file (416).
    """
    byte_range = request.range
    if (
        byte_range is None
        or byte_range.units != "bytes"
        or len(byte_range.ranges) != 1
        or not _if_range_matches(record)
    ):
        return whole_file(record)
    span = byte_range.range_for_length(record.size)
    if span is None:
        raise RequestedRangeNotSatisfiable(length=record.size)
    return span


def _if_range_matches(record: FileRecord) -> bool:
    condition = request.if_range
    if condition.etag is not None:
        return condition.etag == record.sha256
    if condition.date is not None:
        return condition.date >= record.uploaded_at.replace(microsecond=0)
    return True

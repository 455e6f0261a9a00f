"""Downloads: ``GET /download/<id>`` streams verified plaintext, never a temporary file."""

from __future__ import annotations

from flask import Blueprint
from flask import Response

from ..filenames import content_disposition
from ..services import get_repository
from ..services import get_vault
from ..transfers import open_file

bp = Blueprint("download", __name__)


@bp.get("/download/<file_id:file_id>")
def file(file_id: str) -> Response:
    """Send one file as an attachment, decrypting it chunk by chunk as it goes out."""
    outgoing = open_file(get_vault(), get_repository(), file_id)
    record = outgoing.record
    response = Response(
        outgoing.chunks, mimetype="application/octet-stream", direct_passthrough=True
    )
    response.content_length = record.size
    response.headers["Content-Disposition"] = content_disposition(record.name)
    response.set_etag(record.sha256)
    return response

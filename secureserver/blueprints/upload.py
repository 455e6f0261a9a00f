"""Uploads: ``POST /upload`` (multipart form, field ``file``) and ``PUT /upload/<name>``.

Bodies are never parsed by Werkzeug's form parser (which spools to disk in plaintext): they
are streamed through :mod:`~secureserver.multipart` or read raw, and every file is encrypted
chunk by chunk on its way to storage.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for

from .. import activity
from .. import csrf
from ..errors import BadRequest
from ..errors import UnsupportedMediaType
from ..errors import UnsupportedTransferCoding
from ..errors import client_prefers_html
from ..filenames import clean_content_type
from ..filenames import clean_filename
from ..multipart import MultipartReader
from ..presenters import file_json
from ..request_body import body_chunks
from ..request_body import input_stream
from ..services import get_repository
from ..services import get_vault
from ..transfers import IncomingFile
from ..transfers import store_files

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator

    from ..storage import FileRecord

FILE_FIELD = "file"
# Characters of file names listed in the upload confirmation; the rest are counted.
FLASH_NAMES_BUDGET = 300

bp = Blueprint("upload", __name__)


@bp.post("/upload")
def form() -> t.Any:
    """Store every file of a ``multipart/form-data`` body whose field is ``file``."""
    reader = MultipartReader(
        _body(),
        _multipart_boundary(),
        max_field_size=current_app.config["MAX_FORM_MEMORY_SIZE"],
        max_parts=current_app.config["MAX_FORM_PARTS"],
    )
    return _created(_store(_files_after_token(reader)))


@bp.put("/upload/<any_name:filename>", merge_slashes=False)
def raw(filename: str) -> t.Any:
    """Store the raw request body as one file named ``filename`` (``curl -T``)."""
    incoming = IncomingFile(
        clean_filename(filename), clean_content_type(request.content_type), _body()
    )
    return _created(_store([incoming]))


def _files_after_token(reader: MultipartReader) -> Iterator[IncomingFile]:
    """The form's files, once the CSRF token of a browser form has been checked.

    The token field comes first in the page's form, so it is checked before the first
    file part is read; a form without one is refused before anything is stored.
    """
    for part in reader.files():
        csrf.require_token_in_fields(reader.fields)
        if part.field_name == FILE_FIELD and part.filename:
            yield IncomingFile(
                clean_filename(part.filename), clean_content_type(part.content_type), part.chunks
            )
    csrf.require_token_in_fields(reader.fields)


def _body() -> Iterator[bytes | bytearray]:
    _refuse_content_codings()
    return body_chunks(
        input_stream(request),
        current_app.config["UPLOAD_READ_SIZE"],
        request.content_length,
        request.max_content_length,
    )


def _refuse_content_codings() -> None:
    """Refuse a body in a transfer coding the server would store undecoded (gzip, ...).

    Gunicorn removes ``chunked`` framing but passes any other coding through, so the bytes
    stored would not be the file the client meant.

    :raises UnsupportedTransferCoding: 501, as RFC 9112 asks for a coding it does not know.
    """
    codings = request.headers.get("Transfer-Encoding", "")
    for coding in (c.strip().lower() for c in codings.split(",") if c.strip()):
        if coding not in ("chunked", "identity"):
            raise UnsupportedTransferCoding(f"the transfer coding {coding!r} is not supported")


def _multipart_boundary() -> bytes:
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not 1 <= len(boundary) <= 70:
        raise UnsupportedMediaType("expected a multipart/form-data body with a boundary")
    if request.headers.get("Content-Type", "").lower().count("boundary=") != 1:
        # Parsers disagree on which of two boundaries counts: refuse instead of guessing.
        raise BadRequest("the Content-Type gives more than one boundary")
    return boundary.encode("latin-1")


def _store(incoming: Iterable[IncomingFile]) -> list[FileRecord]:
    records = store_files(
        get_vault(),
        get_repository(),
        incoming,
        max_files=current_app.config["MAX_FILES_PER_REQUEST"],
        expected_bytes=request.content_length,
    )
    activity.uploaded(records)
    return records


def _uploaded_message(records: list[FileRecord]) -> str:
    """Say what was stored, briefly: the message travels in the session cookie (< 4 KB)."""
    names: list[str] = []
    for record in records:
        if names and sum(len(name) for name in names) + len(record.name) > FLASH_NAMES_BUDGET:
            return f"Uploaded {', '.join(names)} and {len(records) - len(names)} more."
        names.append(record.name)
    return f"Uploaded {', '.join(names)}."


def _created(records: list[FileRecord]) -> t.Any:
    if client_prefers_html():
        flash(_uploaded_message(records), "success")
        return redirect(url_for("listing.index"), 303)
    return {"files": [file_json(record) for record in records]}, 201

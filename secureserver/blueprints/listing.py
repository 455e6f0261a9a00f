"""The file list: the HTML page at ``/``, the JSON API under ``/api/files``, and deletion."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from ..errors import BadRequest
from ..presenters import file_json
from ..services import get_repository

if t.TYPE_CHECKING:
    from werkzeug import Response

bp = Blueprint("listing", __name__)

PAGE_SIZE = 100
MAX_LIMIT = 1000
# SQLite integers are 64-bit; no listing is anywhere near this long.
MAX_OFFSET = 2**62


@bp.get("/")
def index() -> str:
    """Show the upload form and one page of files, newest first."""
    offset = _int_arg("offset", minimum=0, maximum=MAX_OFFSET) or 0
    repository = get_repository()
    return render_template(
        "index.html",
        files=repository.list(limit=PAGE_SIZE, offset=offset),
        total=repository.count(),
        offset=offset,
        page_size=PAGE_SIZE,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
    )


@bp.get("/api/files")
def files() -> dict[str, t.Any]:
    """List files newest first; ``?limit=`` and ``?offset=`` page through them."""
    limit = _int_arg("limit", minimum=1, maximum=MAX_LIMIT)
    offset = _int_arg("offset", minimum=0, maximum=MAX_OFFSET) or 0
    repository = get_repository()
    records = repository.list(limit=limit, offset=offset)
    return {"files": [file_json(r) for r in records], "total": repository.count()}


@bp.get("/api/files/<file_id:file_id>")
def file(file_id: str) -> dict[str, t.Any]:
    """Describe one file."""
    return file_json(get_repository().get(file_id))


@bp.delete("/api/files/<file_id:file_id>")
def delete(file_id: str) -> tuple[str, int]:
    """Delete one file; 204 with no body."""
    get_repository().delete(file_id)
    return "", 204


@bp.post("/delete/<file_id:file_id>")
def delete_from_page(file_id: str) -> Response:
    """Delete one file from the page's button, then go back to the list."""
    repository = get_repository()
    name = repository.get(file_id).name
    repository.delete(file_id)
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("listing.index"), 303)


def _int_arg(name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    """Read an optional integer query argument within bounds; None when absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or (value := int(raw)) < minimum:
        raise BadRequest(f"{name} must be an integer of at least {minimum}")
    if maximum is not None and value > maximum:
        raise BadRequest(f"{name} must be at most {maximum}")
    return value

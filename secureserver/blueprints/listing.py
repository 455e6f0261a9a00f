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

from .. import activity
from ..errors import BadRequest
from ..presenters import file_json
from ..services import get_repository
from ..storage import SORT_KEYS
from ..storage import FileQuery

if t.TYPE_CHECKING:
    from werkzeug import Response

bp = Blueprint("listing", __name__)

PAGE_SIZE = 100
MAX_LIMIT = 1000
# SQLite integers are 64-bit; no listing is anywhere near this long.
MAX_OFFSET = 2**62
MAX_QUERY_LENGTH = 255


@bp.get("/")
def index() -> str:
    """Show the upload form and one page of files (same query arguments as the API)."""
    query = _file_query(default_limit=PAGE_SIZE)
    return render_template(
        "index.html",
        page=get_repository().find(query),
        query=query,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
    )


@bp.get("/api/files")
def files() -> dict[str, t.Any]:
    """List files: ``?sort=&order=&q=&limit=&offset=``, newest first by default."""
    page = get_repository().find(_file_query(default_limit=None))
    return {"files": [file_json(r) for r in page.records], "total": page.total}


@bp.get("/api/files/<file_id:file_id>")
def file(file_id: str) -> dict[str, t.Any]:
    """Describe one file."""
    return file_json(get_repository().get(file_id))


@bp.delete("/api/files/<file_id:file_id>")
def delete(file_id: str) -> tuple[str, int]:
    """Delete one file; 204 with no body."""
    get_repository().delete(file_id)
    activity.deleted(file_id)
    return "", 204


@bp.post("/delete/<file_id:file_id>")
def delete_from_page(file_id: str) -> Response:
    """Delete one file from the page's button, then go back to the list."""
    repository = get_repository()
    name = repository.get(file_id).name
    repository.delete(file_id)
    activity.deleted(file_id)
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("listing.index"), 303)


def _file_query(default_limit: int | None) -> FileQuery:
    """Read the listing's query arguments, refusing anything out of range (400)."""
    sort = request.args.get("sort", "uploaded_at")
    if sort not in SORT_KEYS:
        raise BadRequest(f"sort must be one of {', '.join(SORT_KEYS)}")
    order = request.args.get("order", "asc" if sort == "name" else "desc")
    if order not in ("asc", "desc"):
        raise BadRequest("order must be asc or desc")
    contains = request.args.get("q") or None
    if contains is not None and len(contains) > MAX_QUERY_LENGTH:
        raise BadRequest(f"q must be at most {MAX_QUERY_LENGTH} characters")
    limit = _int_arg("limit", minimum=1, maximum=MAX_LIMIT)
    return FileQuery(
        sort=sort,
        descending=order == "desc",
        contains=contains,
        limit=default_limit if limit is None else limit,
        offset=_int_arg("offset", minimum=0, maximum=MAX_OFFSET) or 0,
    )


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

"""How a stored file is shown to clients: the JSON object of the API and a few display helpers."""

from __future__ import annotations

import typing as t

from flask import url_for

if t.TYPE_CHECKING:
    from .storage import FileRecord

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def record_fields(record: FileRecord) -> dict[str, t.Any]:
    """Return what is known of a stored file, as JSON-ready values (the CLI shows this)."""
    return {
        "id": record.id,
        "name": record.name,
        "size": record.size,
        "sha256": record.sha256,
        "content_type": record.content_type,
        "uploaded_at": utc_timestamp(record),
    }


def file_json(record: FileRecord) -> dict[str, t.Any]:
    """Return the API's FILE object for ``record`` (see ``openapi.json``)."""
    return {
        **record_fields(record),
        "download_url": url_for("download.file", file_id=record.id),
    }


def utc_timestamp(record: FileRecord) -> str:
    """Format the upload time as RFC 3339 in UTC, with a ``Z``."""
    return record.uploaded_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def human_size(size: int) -> str:
    """Format a byte count for people: ``0 B``, ``1000 B``, ``1.5 KiB``, ``3.2 GiB``."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    unit = 1
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.1f} {_UNITS[unit]}"

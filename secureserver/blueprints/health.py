"""Service endpoints for machines: ``/healthz`` and the API description ``/openapi.json``."""

from __future__ import annotations

import functools
import json
import typing as t
from importlib import resources

from flask import Blueprint

from ..services import get_services
from ..storage import StorageError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, t.Any], int]:
    """200 when files can be stored and read now: identity loaded, DB and storage writable."""
    services = get_services()
    problems = []
    if not services.vault.is_ready():
        problems.append("the encryption identity is not available")
    try:
        services.repository.check_writable()
    except StorageError as e:
        problems.append(str(e))
    if problems:
        return {"status": "unavailable", "problems": problems}, 503
    return {"status": "ok"}, 200


@bp.get("/openapi.json")
def openapi() -> dict[str, t.Any]:
    """Describe the JSON API in OpenAPI 3.1, for client generators and fuzzers."""
    return _openapi_document()


@functools.cache
def _openapi_document() -> dict[str, t.Any]:
    text = resources.files("secureserver").joinpath("openapi.json").read_text("utf-8")
    return t.cast(dict[str, t.Any], json.loads(text))

"""CSRF tokens for browsers, checked before any file is stored.

Browser requests that change something must carry a token bound to the session: in the
``X-CSRFToken`` header (the page's JavaScript), in the ``csrf_token`` field of a small
urlencoded form (delete buttons), or as the *first* part of the multipart upload form, so
that the token is checked before the first file part is read. Flask-WTF's CSRFProtect
cannot be used as is: it parses the whole form first, which would receive every file before
refusing the request. Its token functions are used instead.

Requests that carry no cookie, no ``Origin`` and no ``Sec-Fetch-*`` header are not from a
browser (curl, scripts): a page on another site cannot make a browser send such a request,
so they need no token.
"""

from __future__ import annotations

import typing as t

from flask import g
from flask import request
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from .errors import Forbidden

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

HEADER_NAME = "X-CSRFToken"
FIELD_NAME = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BROWSER_HEADERS = ("Cookie", "Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode")
MULTIPART = "multipart/form-data"


def init_app(app: Flask) -> None:
    """Check tokens on every state-changing request; offer ``csrf_token()`` to templates."""
    # A token lives as long as its session: a page left open for hours must still upload.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.before_request(check_token)


def check_token() -> None:
    """Check the token of a browser's state-changing request, from headers or a small form.

    A multipart upload without the header is checked later, by
    :func:`require_token_in_fields`, once its first part has arrived.

    :raises Forbidden: when the token is missing or wrong.
    """
    if request.method not in UNSAFE_METHODS or not is_browser_request():
        return
    token = request.headers.get(HEADER_NAME)
    if token is None and request.mimetype == MULTIPART:
        g.csrf_token_in_body = True
        return
    if token is None and request.mimetype == "application/x-www-form-urlencoded":
        token = request.form.get(FIELD_NAME)
    _validate(token)


def require_token_in_fields(fields: Mapping[str, str]) -> None:
    """Check the token a multipart form carried in its leading fields, if it must carry one.

    :raises Forbidden: when the token is missing or wrong.
    """
    if g.pop("csrf_token_in_body", False):
        _validate(fields.get(FIELD_NAME))


def is_browser_request() -> bool:
    """Tell whether a browser sent this request (a cookie, Origin or Sec-Fetch-* header)."""
    return any(name in request.headers for name in BROWSER_HEADERS)


def _validate(token: str | None) -> None:
    try:
        validate_csrf(token)
    except ValidationError as e:
        raise Forbidden(f"{e.args[0]} Reload the page and try again.") from None

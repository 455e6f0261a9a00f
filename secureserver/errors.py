"""HTTP errors: one class per status, and one handler that answers in JSON or HTML.

API clients (curl, scripts, the page's JavaScript) get ``{"error": "..."}``; a browser that
asks for HTML gets ``error.html``. Domain errors from the Flask-free core (storage, crypto,
uploads) are mapped to statuses here, so the core never imports HTTP concepts. Decryption
failures give the client one generic message; the details go to the log.
"""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge

from . import activity
from .crypto import DecryptionError
from .multipart import FormTooLarge
from .multipart import MalformedBody
from .presenters import human_size
from .request_body import IncompleteBody
from .storage import FileNotFound
from .storage import StorageError
from .storage import StorageFull
from .transfers import NoFilesGiven
from .transfers import TooManyFiles
from .vault import IdentityError

if t.TYPE_CHECKING:
    from flask import Flask


KEPT_ERROR_HEADERS = ("Allow", "Content-Range", "Retry-After", "WWW-Authenticate")


class HTTPError(Exception):
    """An error with the status it is answered with (like click's ``exit_code``)."""

    status = 500
    default_message = "internal server error"

    def __init__(self, message: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.headers = headers or {}


class BadRequest(HTTPError):
    status = 400
    default_message = "bad request"


class Forbidden(HTTPError):
    status = 403
    default_message = "forbidden"


class NotFound(HTTPError):
    status = 404
    default_message = "no such file"


class PayloadTooLarge(HTTPError):
    status = 413
    default_message = "request too large"


class UnsupportedMediaType(HTTPError):
    status = 415
    default_message = "unsupported content type"


class UnsupportedTransferCoding(HTTPError):
    status = 501
    default_message = "unsupported transfer coding"


class InsufficientStorage(HTTPError):
    status = 507
    default_message = "not enough storage space"


class ServiceUnavailable(HTTPError):
    status = 503
    default_message = "the server is not ready"


def _from_domain(error: Exception) -> HTTPError:
    """Translate an error of the core into the HTTP error a client should see."""
    if isinstance(error, HTTPError):
        return error
    if isinstance(error, (NoFilesGiven, IncompleteBody, MalformedBody)):
        return BadRequest(str(error))
    if isinstance(error, (TooManyFiles, FormTooLarge)):
        return PayloadTooLarge(str(error))
    if isinstance(error, FileNotFound):
        return NotFound()
    if isinstance(error, StorageFull):
        return InsufficientStorage()
    if isinstance(error, IdentityError):
        return ServiceUnavailable("the server's encryption identity is not available")
    if isinstance(error, DecryptionError):
        return HTTPError("the stored file failed its integrity check")
    return HTTPError()


def client_prefers_html() -> bool:
    """Tell whether the client is a browser asking for a page rather than an API client."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json")


def error_response(status: int, message: str) -> tuple[t.Any, int]:
    """Render ``message`` with ``status`` for this client, as JSON or as the error page."""
    if client_prefers_html():
        return render_template("error.html", status=status, message=message), status
    return {"error": message}, status


def _handle_http_exception(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error.get_response()
    if isinstance(error, RequestEntityTooLarge):
        message = _too_large_message()
    else:
        message = (error.description or error.name).strip()
    body, status = error_response(error.code, message)
    # Keep the headers that carry meaning, such as Allow on a 405.
    kept = error.get_response().headers
    headers = [(name, kept[name]) for name in KEPT_ERROR_HEADERS if name in kept]
    return body, status, headers


def _too_large_message() -> str:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return f"the request is too large: the limit is {human_size(limit)} ({limit} bytes)"


def _handle_domain_error(error: Exception) -> ResponseReturnValue:
    http_error = _from_domain(error)
    if isinstance(error, DecryptionError):
        activity.integrity_failure(error)
    elif http_error.status >= 500:
        current_app.logger.error("%s: %s", type(error).__name__, error)
    body, status = error_response(http_error.status, http_error.message)
    return body, status, http_error.headers


def register_error_handlers(app: Flask) -> None:
    """Answer every error, ours or Werkzeug's, in the client's preferred format."""
    app.register_error_handler(HTTPException, _handle_http_exception)
    for error_class in (
        HTTPError,
        NoFilesGiven,
        TooManyFiles,
        FormTooLarge,
        IncompleteBody,
        MalformedBody,
        StorageError,
        IdentityError,
        DecryptionError,
    ):
        app.register_error_handler(error_class, _handle_domain_error)

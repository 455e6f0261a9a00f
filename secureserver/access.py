"""The optional access password at the HTTP edge: login page, session, Basic and bearer.

With no password set (the default) this module does nothing. Once an admin runs
``flask --app secureserver set-password``, every request but the health check, static assets
and the login page needs either the session a browser gets by logging in once, or the
password itself in ``Authorization: Basic`` (any user name) or ``Authorization: Bearer``.
Failed attempts are counted per client address; past the limit, the client waits (429).
"""

from __future__ import annotations

import base64
import binascii
import typing as t
from pathlib import Path

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from . import activity
from .csrf import is_browser_request
from .errors import HTTPError
from .errors import client_prefers_html
from .passwords import AccessPassword

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue

PASSWORD_FILE = "access_password"
SESSION_KEY = "access"
PUBLIC_ENDPOINTS = frozenset({"health.healthz", "static", "access.login"})
EXTENSION_KEY = "secureserver.access"

bp = Blueprint("access", __name__)


class Unauthorized(HTTPError):
    status = 401
    default_message = "this server needs its access password"


class TooManyAttempts(HTTPError):
    status = 429
    default_message = "too many wrong passwords; wait a minute and try again"


class _Gate:
    """The password and the failure counter of one app."""

    def __init__(self, app: Flask) -> None:
        self.password = AccessPassword(Path(app.instance_path) / PASSWORD_FILE)
        self.limit = parse(app.config["AUTH_FAILURE_LIMIT"])
        self.failures = MovingWindowRateLimiter(MemoryStorage())

    def refuse_if_throttled(self, client: str) -> None:
        if not self.failures.test(self.limit, client):
            raise TooManyAttempts()

    def verify(self, client: str, password: str) -> bool:
        """Check a password from ``client``, counting it against the limit if wrong."""
        self.refuse_if_throttled(client)
        if self.password.check(password):
            return True
        self.failures.hit(self.limit, client)
        activity.refused_password()
        return False


def init_app(app: Flask) -> None:
    """Guard every request of ``app`` and add the login and logout routes."""
    app.extensions[EXTENSION_KEY] = _Gate(app)
    app.before_request(require_access)
    app.register_blueprint(bp)
    app.context_processor(lambda: {"access_password_set": _gate().password.current() is not None})


def _gate() -> _Gate:
    return t.cast(_Gate, current_app.extensions[EXTENSION_KEY])


def require_access() -> ResponseReturnValue | None:
    """Let the request through if no password is set or the client has proved it knows it.

    :raises Unauthorized: for API clients without valid credentials (with a challenge).
    """
    gate = _gate()
    fingerprint = gate.password.fingerprint()
    if fingerprint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if session.get(SESSION_KEY) == fingerprint:
        return None
    password = _password_from_header()
    if password is not None:
        if gate.verify(_client(), password):
            return None
    elif client_prefers_html() and request.method == "GET":
        return redirect(url_for("access.login", next=request.full_path.rstrip("?")))
    raise Unauthorized(headers={"WWW-Authenticate": _challenge()})


def _challenge() -> str:
    """Offer Basic to API clients, but not to the page's own scripts.

    A Basic challenge makes a browser pop up its own login dialog, even for a fetch() from
    the page; the page has its login form, so browsers are only told about bearer tokens.
    """
    if is_browser_request():
        return 'Bearer realm="secureserver"'
    return 'Basic realm="secureserver", charset="UTF-8"'


def _password_from_header() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return None


def _client() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Ask for the access password once; the session remembers it until logout."""
    gate = _gate()
    if gate.password.current() is None:
        return redirect(url_for("listing.index"))
    if request.method == "POST":
        if gate.verify(_client(), request.form.get("password", "")):
            session.clear()
            session[SESSION_KEY] = gate.password.fingerprint()
            return redirect(_safe_next(request.args.get("next")), 303)
        flash("Wrong password.", "error")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget the session; the next page asks for the password again."""
    session.clear()
    return redirect(url_for("access.login"), 303)


def _safe_next(target: str | None) -> str:
    """Only follow a same-site path after login, never another site (open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("listing.index")

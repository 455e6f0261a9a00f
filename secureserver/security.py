"""Browser-facing protections: strict response headers and refusal of cross-site writes.

Cross-site requests are refused from the request headers alone, before any body is read,
so a page on another origin can neither upload nor delete. Browsers send ``Sec-Fetch-Site``
and ``Origin`` on such requests; curl and scripts send neither and are unaffected.
"""

from __future__ import annotations

import typing as t

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import Forbidden

if t.TYPE_CHECKING:
    from flask import Flask
    from flask import Response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Install the cross-site check and the header policy on ``app``.

    ``X-Forwarded-*`` headers are believed only for the number of proxies an admin declares
    in ``PROXY_COUNT``: anyone can send them, and believing them would let a client choose
    the address that rate limits and logs see.
    """
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.before_request(refuse_cross_site_writes)
    app.after_request(add_security_headers)


def refuse_cross_site_writes() -> None:
    """Refuse a state-changing request that a browser sent on behalf of another site.

    :raises Forbidden: before the body is read, so nothing is stored.
    """
    if request.method not in UNSAFE_METHODS:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise Forbidden("cross-site requests may not change anything here")
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        raise Forbidden("cross-origin requests may not change anything here")


def add_security_headers(response: Response) -> Response:
    """Add the header policy; nothing but static assets may be cached."""
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response

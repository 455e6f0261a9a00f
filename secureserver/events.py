"""Application events as structured JSON lines, each tagged with its request's id.

Uploads, downloads, deletions, refused passwords and integrity failures are what an admin
searches the journal for. Each event is one JSON object on one line, with the request id
that is also sent back in ``X-Request-ID``, so a client's report can be matched to the log.
File ids, sizes and statuses are logged; file names, contents and keys never are.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import secrets
import sys
import typing as t

from flask import g
from flask import has_request_context
from flask import request

if t.TYPE_CHECKING:
    from flask import Flask
    from flask import Response

LOGGER_NAME = "secureserver.events"
REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's request id is kept if it looks like one; anything else is replaced.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class JsonLineFormatter(logging.Formatter):
    """Format a record made by :func:`event` as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(fields, ensure_ascii=False, default=str)


def init_app(app: Flask) -> None:
    """Give every request an id and send events to standard error as JSON lines."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonLineFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request(_assign_request_id)
    app.after_request(_send_request_id)


def _assign_request_id() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _CLIENT_REQUEST_ID.fullmatch(offered) else secrets.token_hex(8)


def _send_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def event(name: str, level: int = logging.INFO, **fields: t.Any) -> None:
    """Log one application event with ``fields`` (never names, contents or keys)."""
    if has_request_context():
        fields = {
            "request_id": g.get("request_id"),
            "client": request.remote_addr,
            "method": request.method,
            "path": request.url_rule.rule if request.url_rule else None,
            **fields,
        }
    logging.getLogger(LOGGER_NAME).log(level, name, extra={"fields": fields})

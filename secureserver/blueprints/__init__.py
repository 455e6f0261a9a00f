"""The HTTP surface: one blueprint per area, each a thin layer over the services.

A view parses the request, calls one service function and shapes the response. The
:class:`FileIdConverter` lets routes refuse malformed ids before any lookup happens;
:class:`AnyNameConverter` lets a hostile file name in a URL reach the code that cleans it.
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter
from werkzeug.routing import PathConverter

from ..storage.records import FILE_ID_PATTERN


class FileIdConverter(BaseConverter):
    """Match only strings shaped like a file id; anything else is a plain 404."""

    regex = FILE_ID_PATTERN.pattern


class AnyNameConverter(PathConverter):
    """Match any non-empty name, slashes and line breaks included (``path`` stops at CR/LF).

    The name is cleaned by the view; refusing it with a 404 here would only confuse clients.
    """

    regex = "(?s:.+?)"
    # Werkzeug would otherwise match this converter against one path segment only.
    part_isolating = False

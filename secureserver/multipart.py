"""A streaming ``multipart/form-data`` reader that never spools a file anywhere.

Werkzeug's form parser writes every upload over 500 KB to a temporary file, in plaintext, and
its sans-IO decoder copies each byte several times and mis-splits a body whose read ends
between the two dashes of the closing delimiter. This reader follows RFC 7578 / RFC 2046 with
CRLF line breaks only (what browsers and curl send) and hands each file part to the caller as
an iterator of zero-copy ``memoryview`` slices of the chunks it received, so the upload path
can hash and encrypt them as they arrive. Small text fields (a CSRF token, say) are collected
in memory, within a size limit.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator

CRLF = b"\r\n"
HEADER_END = b"\r\n\r\n"
# Preamble and epilogue carry nothing; a few KiB is all any client sends.
MAX_PREAMBLE = 64 * 1024
MAX_EPILOGUE = 64 * 1024

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# A quoted value: browsers percent-encode quotes and line breaks and send backslashes raw
# (WHATWG), older clients escape a quote with a backslash. Only that pair is treated as an escape.
_PARAMETER = re.compile(rf'\s*;\s*({_TCHARS})\s*=\s*(?:"((?:[^"\\]|\\"|\\(?!"))*)"|({_TCHARS}))')


class MalformedBody(Exception):
    """The body is not valid ``multipart/form-data`` (or was cut short)."""


class FormTooLarge(Exception):
    """The form has too many parts, an oversized field, or oversized part headers."""


@dataclass(frozen=True)
class FilePart:
    """One file of the form: read ``chunks`` to the end before asking for the next part.

    The chunks are views into the received data, valid for as long as they are referenced.
    """

    field_name: str
    filename: str
    content_type: str | None
    chunks: Iterator[memoryview]


@dataclass(frozen=True)
class _PartHeaders:
    name: str | None
    filename: str | None
    content_type: str | None


class MultipartReader:
    """Parts of one multipart body, in order, as the body streams in."""

    def __init__(
        self,
        body: Iterable[bytes | bytearray],
        boundary: bytes,
        *,
        max_field_size: int,
        max_parts: int,
        max_header_size: int = 16 * 1024,
    ) -> None:
        """
        :param body: the request body as chunks (see :func:`request_body.body_chunks`).
        :param boundary: the boundary from the Content-Type header.
        :param max_field_size: the largest non-file field kept in memory.
        :param max_parts: the most parts (files and fields) a body may have.
        :param max_header_size: the largest header block of one part.
        """
        self._body = iter(body)
        self._delimiter = CRLF + b"--" + boundary
        # The first delimiter may open the body without a line break before it.
        self._buffer: bytes | bytearray = CRLF
        self._max_field_size = max_field_size
        self._max_parts = max_parts
        self._max_header_size = max_header_size
        self.fields: dict[str, str] = {}

    def files(self) -> Iterator[FilePart]:
        """Yield the file parts; fields seen on the way are stored in :attr:`fields`."""
        self._skip_preamble()
        count = 0
        while self._next_part_follows():
            count += 1
            if count > self._max_parts:
                raise FormTooLarge(f"the form has more than {self._max_parts} parts")
            headers = self._read_part_headers()
            data = self._part_data()
            if headers.filename is not None and headers.name is not None:
                yield FilePart(headers.name, headers.filename, headers.content_type, data)
            elif headers.name is not None:
                self.fields[headers.name] = self._field_value(data)
            # Whatever the caller did not read still has to be parsed past.
            for _ in data:
                pass
        self._drain_epilogue()

    # --- reading ---------------------------------------------------------------------

    def _fill(self) -> None:
        """Append the next chunk of the body to the buffer.

        :raises MalformedBody: at the end of the body, which must not come before the
            closing delimiter.
        """
        chunk = next(self._body, None)
        if chunk is None:
            raise MalformedBody("the body ended before its closing boundary")
        self._buffer = self._buffer + chunk if self._buffer else chunk

    def _skip_preamble(self) -> None:
        while (found := self._buffer.find(self._delimiter)) < 0:
            if len(self._buffer) > MAX_PREAMBLE:
                raise MalformedBody("no boundary at the start of the body")
            self._fill()
        # The limits hold whatever the size of the reads that brought the bytes in.
        if found > MAX_PREAMBLE:
            raise MalformedBody("no boundary at the start of the body")
        self._buffer = self._buffer[found + len(self._delimiter) :]

    def _next_part_follows(self) -> bool:
        """Read what follows a delimiter: ``--`` closes the body, CRLF opens a part."""
        while len(self._buffer) < 2:
            self._fill()
        if self._buffer.startswith(b"--"):
            return False
        # RFC 2046 allows whitespace ("transport padding") before the line break.
        while (line_end := self._buffer.find(CRLF)) < 0:
            if len(self._buffer) > self._max_header_size:
                raise MalformedBody("a boundary line is not followed by a line break")
            self._fill()
        if line_end > self._max_header_size:
            raise MalformedBody("a boundary line is not followed by a line break")
        if self._buffer[:line_end].strip(b" \t"):
            raise MalformedBody("unexpected characters after a boundary")
        # Keep the CRLF: a part without headers is the delimiter line then an empty line.
        self._buffer = self._buffer[line_end:]
        return True

    def _drain_epilogue(self) -> None:
        size = len(self._buffer)
        for chunk in self._body:
            size += len(chunk)
            if size > MAX_EPILOGUE:
                raise MalformedBody("too much data after the closing boundary")
        self._buffer = b""

    def _read_part_headers(self) -> _PartHeaders:
        while (end := self._buffer.find(HEADER_END)) < 0:
            if len(self._buffer) > self._max_header_size:
                raise FormTooLarge(f"part headers larger than {self._max_header_size} bytes")
            self._fill()
        if end > self._max_header_size:
            raise FormTooLarge(f"part headers larger than {self._max_header_size} bytes")
        block, self._buffer = self._buffer[2:end], self._buffer[end + len(HEADER_END) :]
        return _parse_part_headers(block)

    def _part_data(self) -> Iterator[memoryview]:
        """Yield the part's data up to the next delimiter, without copying it."""
        delimiter = self._delimiter
        while True:
            buffer = self._buffer
            found = buffer.find(delimiter)
            if found >= 0:
                if found:
                    yield memoryview(buffer)[:found]
                self._buffer = buffer[found + len(delimiter) :]
                return
            # Only a tail starting with CR can be the beginning of a delimiter.
            safe = buffer.find(b"\r", max(0, len(buffer) - len(delimiter) + 1))
            safe = len(buffer) if safe < 0 else safe
            if safe:
                yield memoryview(buffer)[:safe]
            self._buffer = buffer[safe:]
            self._fill()

    def _field_value(self, data: Iterator[memoryview]) -> str:
        value = bytearray()
        for chunk in data:
            value += chunk
            if len(value) > self._max_field_size:
                raise FormTooLarge(f"a form field is larger than {self._max_field_size} bytes")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedBody("a form field is not valid UTF-8") from e


def _parse_part_headers(block: bytes | bytearray) -> _PartHeaders:
    """Read Content-Disposition and Content-Type from a part's header block."""
    headers: dict[str, str] = {}
    for line in block.split(CRLF) if block else []:
        name, colon, value = line.partition(b":")
        if not colon or not re.fullmatch(_TCHARS.encode(), name):
            raise MalformedBody("malformed part header")
        key = name.decode("ascii").lower()
        if key in headers:
            # Two parsers could pick different ones (Werkzeug keeps the first): refuse both.
            raise MalformedBody(f"a part repeats its {key} header")
        # File names arrive as raw UTF-8, or as anything at all: undecodable bytes are kept
        # as surrogates, which filename cleaning removes.
        headers[key] = value.decode("utf-8", "surrogateescape").strip()
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MalformedBody("a part has no Content-Disposition header")
    kind, _, rest = disposition.partition(";")
    if kind.strip().lower() != "form-data":
        raise MalformedBody("a part's Content-Disposition is not form-data")
    parameters = _parse_parameters(";" + rest)
    return _PartHeaders(
        name=parameters.get("name"),
        filename=parameters.get("filename*", parameters.get("filename")),
        content_type=headers.get("content-type"),
    )


def _parse_parameters(text: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    position = 0
    while position < len(text.rstrip()):
        match = _PARAMETER.match(text, position)
        if match is None:
            raise MalformedBody("malformed Content-Disposition parameters")
        key, quoted, token = match.group(1).lower(), match.group(2), match.group(3)
        if key in parameters:
            raise MalformedBody(f"Content-Disposition repeats its {key} parameter")
        value = quoted.replace('\\"', '"') if quoted is not None else token
        if key == "filename*":
            value = _extended_value(value)
        parameters[key] = value
        position = match.end()
    return parameters


def _extended_value(value: str) -> str:
    """Decode an RFC 8187 ``UTF-8''percent-encoded`` value (some clients send filename*)."""
    charset, quote, rest = value.partition("'")
    _language, quote2, encoded = rest.partition("'")
    if not (quote and quote2) or charset.lower() != "utf-8":
        raise MalformedBody("unsupported filename* encoding")
    return unquote(encoded, encoding="utf-8", errors="surrogateescape")

"""Reading a request body as a stream of chunks, and noticing when it was cut short.

Under gunicorn a client that disconnects mid-body looks like a normal end of body: reads
just return fewer bytes. The only way to tell an aborted upload from a complete one is to
count, so every body is read through :func:`body_chunks`.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import RequestEntityTooLarge

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from werkzeug import Request


class IncompleteBody(Exception):
    """The client stopped sending before the end of the body it announced."""


def input_stream(request: Request) -> t.IO[bytes]:
    """Return the stream to read the body from, refusing an oversized body before reading.

    A server that frames bodies itself (gunicorn sets ``wsgi.input_terminated``) is read
    directly: Werkzeug's wrapper would copy every byte once more, and :func:`body_chunks`
    enforces the size limit on its own.

    :raises RequestEntityTooLarge: when Content-Length exceeds the limit.
    """
    limit, length = request.max_content_length, request.content_length
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge()
    if request.environ.get("wsgi.input_terminated"):
        return t.cast(t.IO[bytes], request.environ["wsgi.input"])
    return request.stream


def body_chunks(
    stream: t.IO[bytes],
    read_size: int,
    expected_length: int | None,
    max_length: int | None = None,
) -> Iterator[bytes]:
    """Yield the body in pieces of at most ``read_size`` bytes, checking its length.

    :param stream: the request's input stream (see :func:`input_stream`).
    :param read_size: the largest read; large reads mean fewer copies and system calls.
    :param expected_length: the Content-Length, or None for a chunked body (whose own
        framing tells the server where it ends).
    :param max_length: the most bytes accepted, for bodies without a Content-Length.
    :raises IncompleteBody: when fewer bytes arrive than announced, or reading fails.
    :raises RequestEntityTooLarge: when more than ``max_length`` bytes arrive.
    """
    received = 0
    while True:
        try:
            chunk = stream.read(read_size)
        except RequestEntityTooLarge:
            raise
        except Exception as e:
            # Gunicorn raises its own parse errors for a broken chunked body, Werkzeug's
            # development server raises ClientDisconnected: to us they all mean the same.
            raise IncompleteBody(f"the request body ended early after {received} bytes") from e
        if not chunk:
            break
        received += len(chunk)
        if max_length is not None and received > max_length:
            raise RequestEntityTooLarge()
        yield chunk
    if expected_length is not None and received != expected_length:
        raise IncompleteBody(f"the request body ended after {received} of {expected_length} bytes")

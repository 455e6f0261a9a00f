"""Reading a request body as a stream of chunks, and noticing when it was cut short.

Under gunicorn a client that disconnects mid-body looks like a normal end of body: reads
just return fewer bytes. The only way to tell an aborted upload from a complete one is to
count, so every body is read through :func:`body_chunks`.
"""

from __future__ import annotations

import io
import sys
import typing as t

from gunicorn.http.body import Body  # type: ignore[import-untyped]
from gunicorn.http.body import LengthReader
from gunicorn.http.unreader import SocketUnreader  # type: ignore[import-untyped]
from werkzeug.exceptions import RequestEntityTooLarge

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from werkzeug import Request


# Enough for the chunks a transfer holds at once: the write-behind queue, the one being
# encrypted, the one being hashed, and the multipart parser's look-behind.
MAX_POOLED_BUFFERS = 8
# The largest read from the socket. Once no copy is made, bigger reads save nothing (TLS
# hands over 16 KiB records one at a time anyway), and every upload in flight holds about
# six of these: 512 KiB keeps 16 parallel uploads on two workers under 100 MiB per worker.
MAX_SOCKET_READ = 512 * 1024
# sys.getrefcount() of a pooled buffer that nothing else holds: the pool's list, the loop's
# variable and getrefcount's own argument.
_POOL_ONLY_REFERENCES = 3


class IncompleteBody(Exception):
    """The client stopped sending before the end of the body it announced."""


def input_stream(request: Request) -> t.IO[bytes] | SocketBody:
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
        wsgi_input = request.environ["wsgi.input"]
        return SocketBody.wrap(wsgi_input) or t.cast(t.IO[bytes], wsgi_input)
    return request.stream


class SocketBody:
    """The rest of a gunicorn request body of known length, read straight from its socket.

    Gunicorn's reader asks the socket for ``recv(1 MiB)``, which allocates a 1 MiB object per
    16 KiB TLS record and then copies the data through two ``BytesIO`` buffers: two thirds of
    a worker's time went there on a 1 GiB upload. ``recv_into`` fills one buffer in place. The
    gunicorn objects are kept in step, so that the connection can serve its next request.
    """

    def __init__(self, body: Body, reader: LengthReader, unreader: SocketUnreader) -> None:
        self._body = body
        self._reader = reader
        self._unreader = unreader
        self._buffers: list[bytearray] = []

    @classmethod
    def wrap(cls, wsgi_input: object) -> SocketBody | None:
        """Return a fast reader over gunicorn's ``wsgi.input``, or None if it is another kind
        (a chunked body, another server, a body already partly read)."""
        if not isinstance(wsgi_input, Body) or wsgi_input.buf.tell():
            return None
        reader = wsgi_input.reader
        if not isinstance(reader, LengthReader) or not isinstance(reader.unreader, SocketUnreader):
            return None
        return cls(wsgi_input, reader, reader.unreader)

    def read(self, size: int) -> bytes | bytearray:
        """Read up to ``size`` bytes of the body, at most :data:`MAX_SOCKET_READ`; an empty
        result means the end of the body (or a client that went away)."""
        try:
            return self._read(size)
        except Exception:
            # Where the next request starts is unknown now: gunicorn must close the connection.
            self._body.failed = True
            raise

    def _read(self, size: int) -> bytes | bytearray:
        wanted = min(size, MAX_SOCKET_READ, self._reader.length)
        if wanted <= 0:
            return b""
        # Bytes that arrived with the headers come first; any beyond this body (a pipelined
        # request) go back to gunicorn.
        buffered = self._take_buffered()
        if buffered:
            data: bytes = buffered[:wanted]
            if len(buffered) > wanted:
                self._unreader.unread(buffered[wanted:])
            self._reader.length -= len(data)
            return data
        buffer = self._free_buffer(wanted)
        view = memoryview(buffer)
        filled = 0
        while filled < wanted:
            received: int = self._unreader.sock.recv_into(view[filled:], wanted - filled)
            if not received:
                break
            filled += received
        view.release()
        self._reader.length -= filled
        if filled < wanted:
            return bytes(buffer[:filled])
        return buffer

    def _free_buffer(self, size: int) -> bytearray:
        """A buffer of ``size`` bytes that nothing else refers to any more.

        Fresh 1 MiB buffers cost more than the TLS decryption that fills them (the allocator
        maps and faults in new pages each time), so buffers are reused, but only once the
        hashing, the multipart parser and the write-behind queue have all let go of them:
        then the pool's list and the call's own argument are their only references.
        """
        for buffer in self._buffers:
            if len(buffer) == size and sys.getrefcount(buffer) <= _POOL_ONLY_REFERENCES:
                return buffer
        buffer = bytearray(size)
        if len(self._buffers) < MAX_POOLED_BUFFERS:
            self._buffers.append(buffer)
        return buffer

    def _take_buffered(self) -> bytes:
        # What gunicorn's Unreader.take_buffered() does; older gunicorns lack the method.
        data: bytes = self._unreader.buf.getvalue()
        if data:
            self._unreader.buf = io.BytesIO()
        return data


def body_chunks(
    stream: t.IO[bytes] | SocketBody,
    read_size: int,
    expected_length: int | None,
    max_length: int | None = None,
) -> Iterator[bytes | bytearray]:
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
        # A SocketBody hands out bytearrays it may refill later, but only once nothing refers
        # to them any more; consumers only read them (hashing, find, slices, memoryview).
        yield chunk
    if expected_length is not None and received != expected_length:
        raise IncompleteBody(f"the request body ended after {received} of {expected_length} bytes")

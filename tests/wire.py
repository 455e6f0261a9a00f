"""Raw HTTP/1.1 over TLS for end-to-end tests that need byte-exact control of the wire.

``requests`` normalises what it sends and hides how a response ended; these helpers send
exactly the bytes a test gives them and report exactly what came back, including whether
the server closed the connection. They also check what the server left in its storage.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import struct
import time
import typing as t
from dataclasses import dataclass

import requests

if t.TYPE_CHECKING:
    from pathlib import Path

    from .live_server import LiveServer

HEAD_END = b"\r\n\r\n"
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)")


def connect(server: LiveServer, timeout: float = 10.0) -> ssl.SSLSocket:
    """Open a TLS connection that trusts exactly the server's CA."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def reset(connection: ssl.SSLSocket) -> None:
    """Drop the connection with a TCP reset, as a crashing client or a cut cable would."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


@dataclass(frozen=True)
class Response:
    """One HTTP response as it came off the wire."""

    status: int
    head: bytes
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass(frozen=True)
class Transcript:
    """Everything a server sent on one connection, and how the connection ended."""

    data: bytes
    closed: bool

    @property
    def responses(self) -> list[Response]:
        return parse_responses(self.data)


def parse_responses(data: bytes) -> list[Response]:
    """Split a byte stream into responses; a response cut short is returned with what came."""
    responses = []
    while data:
        head, found, rest = data.partition(HEAD_END)
        match = _STATUS_LINE.match(head)
        assert match, f"not an HTTP response: {data[:200]!r}"
        lines = head.split(b"\r\n")[1:]
        headers = [_header(line) for line in lines]
        status = int(match.group(1))
        lengths = [int(v) for k, v in headers if k.lower() == "content-length"]
        length = 0 if status < 200 or not found else (lengths[0] if lengths else len(rest))
        responses.append(Response(status, head, headers, rest[:length]))
        data = rest[length:]
    return responses


def _header(line: bytes) -> tuple[str, str]:
    name, colon, value = line.partition(b":")
    assert colon, f"malformed response header line {line!r}"
    return name.decode("latin-1"), value.strip(b" \t").decode("latin-1")


def read_until_closed(connection: ssl.SSLSocket, timeout: float) -> Transcript:
    """Read until the server closes the connection, or ``timeout`` passes without it."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            connection.settimeout(remaining)
            chunk = connection.recv(1024 * 1024)
            if not chunk:
                return Transcript(data, closed=True)
            data += chunk
    except TimeoutError:
        return Transcript(data, closed=False)
    except (ConnectionResetError, ssl.SSLError):
        return Transcript(data, closed=True)
    return Transcript(data, closed=False)


def exchange(server: LiveServer, request: bytes, timeout: float = 10.0) -> Transcript:
    """Send ``request`` as is on a fresh connection; read until the server closes it."""
    with connect(server) as connection:
        connection.sendall(request)
        return read_until_closed(connection, timeout)


def send_until_answered(server: LiveServer, request: bytes, timeout: float = 10.0) -> Transcript:
    """Send ``request`` piece by piece, stopping as soon as the server answers (or hangs up).

    A server may refuse a body after its first bytes; a client that kept writing into a
    closed connection would lose the answer to a reset.
    """
    step = 64 * 1024
    with connect(server) as connection:
        early = b""
        try:
            for start in range(0, len(request), step):
                if early := _answer_so_far(connection):
                    break
                connection.sendall(request[start : start + step])
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        rest = read_until_closed(connection, timeout)
        return Transcript(early + rest.data, rest.closed)


def _answer_so_far(connection: ssl.SSLSocket) -> bytes:
    """Application data the server already sent, without blocking; TLS records such as
    session tickets make the socket readable without any."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable and not connection.pending():
        return b""
    connection.setblocking(False)
    try:
        return connection.recv(1024 * 1024)
    except (ssl.SSLWantReadError, BlockingIOError):
        return b""
    finally:
        connection.setblocking(True)


# --- what the server keeps ---------------------------------------------------------------


def listed_ids(server: LiveServer) -> set[str]:
    """The ids of every listed file (every metadata row), page by page."""
    session = server.session()
    ids: set[str] = set()
    for offset in range(0, 1_000_000, 1000):
        page = session.get(server.url(f"/api/files?limit=1000&offset={offset}"), timeout=10)
        assert page.status_code == 200, page.text
        files = page.json()["files"]
        ids |= {f["id"] for f in files}
        if len(files) < 1000:
            return ids
    raise AssertionError("more files than any test makes")


def blob_ids(server: LiveServer) -> set[str]:
    return {path.stem for path in _storage(server).glob("*.age")}


def temp_files(server: LiveServer) -> list[Path]:
    return sorted(_storage(server).glob(".incoming-*"))


def _storage(server: LiveServer) -> Path:
    return server.instance_path / "storage"


def assert_consistent(server: LiveServer) -> None:
    """Every row has its blob, every blob its row, and no upload left a temporary file."""
    assert temp_files(server) == []
    rows, blobs = listed_ids(server), blob_ids(server)
    assert rows - blobs == set(), "listed files without a blob"
    assert blobs - rows == set(), "orphan blobs"


def assert_responsive(server: LiveServer, within: float = 5.0) -> None:
    """A normal request on a new connection is answered promptly: no worker is stuck."""
    started = time.monotonic()
    try:
        response = server.session().get(server.url("/healthz"), timeout=within)
    except requests.RequestException as e:
        raise AssertionError(f"no answer to GET /healthz within {within} s: {e!r}") from None
    assert response.status_code == 200
    assert time.monotonic() - started < within

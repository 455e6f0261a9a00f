"""Stalled clients for the slow-client tests: handshakes, heads and bodies that never end.

Shared by ``test_slow_clients.py`` (gunicorn alone) and ``test_reverse_proxy.py`` (nginx in
front). Every connection is closed by the fixture that opened it.
"""

from __future__ import annotations

import hashlib
import os
import runpy
import select
import shutil
import socket
import ssl
import threading
import time
import typing as t
from unittest import mock

import pytest

from secureserver.deadlines import Limits

from .live_server import PROJECT_ROOT

if t.TYPE_CHECKING:
    from .live_server import LiveServer


MiB = 1024 * 1024
STALLED = 48
# A normal download of 5 MiB takes well under a second here; a starved one waits for the
# stalled clients' deadlines (10 s and more).
DOWNLOAD_BUDGET_SECONDS = 5.0
# How long past its deadline a stalled client may still hold its connection.
CUT_MARGIN_SECONDS = 4.0
DRIBBLE_PERIOD_SECONDS = 1.0


def _gunicorn_settings() -> dict[str, t.Any]:
    """gunicorn.conf.py's values as production gets them, without its side effects here."""
    with mock.patch.dict(os.environ):
        for name in ("PROMETHEUS_MULTIPROC_DIR", "GUNICORN_THREADS", "WEB_CONCURRENCY"):
            os.environ.pop(name, None)
        settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    return settings


SETTINGS = _gunicorn_settings()
LIMITS: Limits = SETTINGS["SLOW_CLIENT_LIMITS"]
KEEPALIVE: int = SETTINGS["keepalive"]
# The smallest production sizing: two workers (two cores) with the default threads.
PRODUCTION_ENV = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": str(SETTINGS["threads"])}


def _client_hello() -> bytes:
    """The first flight of a real TLS client, without sending it anywhere."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


class Stalls:
    """Connections that each stall at one stage, kept stalled by a dribbling thread.

    Kinds: ``silent`` (TCP only), ``hello`` (half a ClientHello), ``head`` (a request head
    one header line per second), ``body`` (a 10 MiB PUT, one byte per second); any other
    kind is a TLS connection on which nothing is sent yet.
    """

    def __init__(self, port: int, ca_file: str, source: str = "127.0.0.1") -> None:
        self.port, self.ca_file, self.source = port, ca_file, source
        self.sockets: list[tuple[str, socket.socket]] = []
        self.closed_after: dict[int, float] = {}  # index in sockets -> seconds open
        self.started = time.monotonic()
        self._deadline = self.started
        # One thread at a time on the sockets: OpenSSL objects are not thread-safe.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dribble, daemon=True)

    def open(self, kind: str, count: int) -> None:
        for _ in range(count):
            self.sockets.append((kind, self._open_one(kind)))

    def _open_one(self, kind: str) -> socket.socket:
        raw = socket.create_connection(
            ("127.0.0.1", self.port), timeout=10, source_address=(self.source, 0)
        )
        if kind == "silent":
            return raw
        if kind == "hello":
            hello = _client_hello()
            raw.sendall(hello[: len(hello) // 2])
            return raw
        context = ssl.create_default_context(cafile=self.ca_file)
        tls = context.wrap_socket(raw, server_hostname="localhost")
        if kind == "head":
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        elif kind == "body":
            tls.sendall(
                b"PUT /upload/slow.bin HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\n\r\nx" % (10 * MiB)
            )
        return tls

    def start(self, seconds: float) -> Stalls:
        """Keep dribbling for at most ``seconds``."""
        self._deadline = time.monotonic() + seconds
        self._thread.start()
        return self

    def _dribble(self) -> None:
        while not self._stop.wait(DRIBBLE_PERIOD_SECONDS) and time.monotonic() < self._deadline:
            with self._lock:
                for index, (kind, sock) in enumerate(self.sockets):
                    if index in self.closed_after:
                        continue
                    if not _still_waiting(sock) or not _send_quietly(sock, kind):
                        self.closed_after[index] = time.monotonic() - self.started

    def open_count(self) -> int:
        with self._lock:
            return sum(1 for _, sock in self.sockets if _still_waiting(sock))

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for _, sock in self.sockets:
            sock.close()


def _still_waiting(sock: socket.socket) -> bool:
    """True while the server has neither answered nor closed the connection."""
    try:
        if isinstance(sock, ssl.SSLSocket):
            # Not select(): TLS 1.3 session tickets make the raw socket readable.
            sock.settimeout(0)
            sock.recv(1)
            return False  # an answer, or the end of the stream
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except OSError:
        return False


def _send_quietly(sock: socket.socket, kind: str) -> bool:
    piece = {"head": b"X-Slow: 1\r\n", "body": b"y"}.get(kind)
    if piece is None:
        return True
    try:
        sock.settimeout(1)
        sock.sendall(piece)
    except OSError:
        return False
    return True


def upload_file(server: LiveServer, size: int) -> tuple[str, bytes]:
    content = os.urandom(size)
    created = server.session().put(server.url("/upload/sample.bin"), data=content, timeout=60)
    assert created.status_code == 201, created.text
    return created.json()["files"][0]["download_url"], content


def assert_served_in_time(server: LiveServer, path: str, content: bytes) -> None:
    """A new client gets the health check and a 5 MiB download, intact, in a few seconds."""
    started = time.monotonic()
    session = server.session()
    assert session.get(server.url("/healthz"), timeout=30).status_code == 200
    response = session.get(server.url(path), timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(content).digest()
    assert elapsed < DOWNLOAD_BUDGET_SECONDS, f"served in {elapsed:.1f} s"

"""Deadlines for slow clients: how long a TLS handshake, a request head and a body may take.

Gunicorn's gthread worker gives a connection one of its threads from the first byte the
client sends until the response is out, and reads from a blocking socket without a timeout.
Gunicorn 27 has no setting that bounds the TLS handshake, the request headers or the body,
so a client that sends half a ClientHello, dribbles its headers (slowloris) or its body
(slow POST) holds a thread for as long as it likes, and a few dozen such clients hold them
all. This module bounds each stage at the one place every byte passes through, the server's
TLS socket, in the spirit of Apache's mod_reqtimeout:

- the handshake must finish within ``handshake`` seconds;
- a request head must arrive within ``header`` seconds of its first read;
- a body must bring ``min_body_rate`` bytes per second, in windows of ``body_window``
  seconds (bytes that waited in the kernel while the server was busy count for the client);
- no read or write of a request may wait longer than ``idle`` seconds.

A client that misses a deadline gets :class:`SlowClient`, a connection reset in gunicorn's
eyes, so it closes the connection quietly, and one line in the error log. One more wait is
cut short: gunicorn's event loop lingers up to 2 s for each closing client to close its end.

The stages are told apart by gunicorn's hooks (see ``gunicorn.conf.py``): the handshake ends
in :meth:`DeadlineSocket.do_handshake`, ``pre_request`` calls :func:`request_started` once
the head is parsed, ``post_request`` calls :func:`request_finished`. Flask-free.
"""

from __future__ import annotations

import errno
import logging
import ssl
import threading
import time
import typing as t
from dataclasses import dataclass

log = logging.getLogger("gunicorn.error")

# A timeout already in force is kept unless it is this much longer than the time left:
# setting a socket timeout is a system call, and the head is read in many small pieces.
SLACK_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """How slow a client may be, in seconds and bytes per second (see the module doc)."""

    handshake: float = 10.0
    header: float = 15.0
    idle: float = 30.0
    body_window: float = 10.0
    min_body_rate: int = 1024


class SlowClient(ConnectionResetError):
    """The client missed a deadline; its connection is dropped."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.ECONNRESET, reason)


# The stages of a connection. After a drop, reads fail at once; writes stay bounded so that
# an error response can still go out.
_HANDSHAKE, _HEADER, _REQUEST, _DROPPED, _OFF = "handshake", "header", "request", "dropped", "off"


class DeadlineSocket(ssl.SSLSocket):
    """A server-side TLS socket that enforces :attr:`limits` (set by :func:`socket_class`).

    ``ssl`` builds these without calling ``__init__``, so the state lives in class-level
    defaults until the first assignment.
    """

    limits: t.ClassVar[Limits] = Limits()
    _stage = _HANDSHAKE
    _header_deadline: float | None = None
    _window_start = 0.0  # when the body's current rate window began
    _received = 0  # body bytes received in that window
    _write_closed = False

    def do_handshake(self, block: bool = False) -> None:
        self._tighten(self.limits.handshake, "handshake")
        try:
            super().do_handshake(block)
        except TimeoutError:
            raise self._drop("handshake") from None
        # HTTP/2 multiplexes requests that these stages do not describe: leave it alone.
        self._stage = _OFF if self.selected_alpn_protocol() == "h2" else _HEADER
        super().settimeout(None)

    def read(self, size: int = 1024, buffer: t.Any = None) -> t.Any:
        # recv() and recv_into() of an SSLSocket both come here. A body streaming in is the
        # hot path (one call per TLS record): its idle timeout is already set, and its rate
        # costs one clock reading.
        if self._stage == _REQUEST:
            try:
                data: t.Any = super().read(size, buffer)  # bytes, or a count into buffer
            except TimeoutError:
                raise self._drop("idle") from None
            self._received += data if type(data) is int else len(data)
            now = time.monotonic()
            limits = self.limits
            if self._received >= limits.min_body_rate * limits.body_window:
                self._window_start, self._received = now, 0
            elif now - self._window_start > limits.body_window:
                raise self._drop("rate")
            return data
        if self._stage == _HEADER:
            now = time.monotonic()
            if self._header_deadline is None:
                self._header_deadline = now + self.limits.header
            self._tighten(self._header_deadline - now, "header")
            try:
                return super().read(size, buffer)
            except TimeoutError:
                raise self._drop("header") from None
        if self._stage == _DROPPED:
            raise SlowClient("connection already dropped as too slow")
        return super().read(size, buffer)

    def send(self, data: t.Any, flags: int = 0) -> int:
        if self._stage == _OFF:
            return super().send(data, flags)
        self._tighten(self.limits.idle, "send")
        try:
            return super().send(data, flags)
        except TimeoutError:
            raise self._drop("send") from None

    def setblocking(self, flag: bool) -> None:
        super().setblocking(flag)
        if not flag and self._stage == _HEADER:
            # Gunicorn parks a kept-alive connection in its poller, its own keepalive timeout
            # running: the next request's head is timed from its first read.
            self._header_deadline = None

    def shutdown(self, how: int) -> None:
        self._write_closed = how != 0  # socket.SHUT_RD
        super().shutdown(how)

    def settimeout(self, value: float | None) -> None:
        if self._write_closed and threading.current_thread() is threading.main_thread():
            # Gunicorn closes a connection on its event loop (the main thread) and waits up
            # to 2 s there for the peer to close too; a peer that never does would stall
            # every other connection of the worker. Take only what has already arrived.
            value = 0.0
        super().settimeout(value)

    def start_request(self) -> None:
        """The head is parsed: the body and the response are bounded by rate and idle time."""
        if self._stage == _HEADER:
            self._stage = _REQUEST
            self._window_start, self._received = time.monotonic(), 0
            super().settimeout(self.limits.idle)

    def finish_request(self) -> None:
        """The response is out: what comes next is the head of another request."""
        if self._stage == _REQUEST:
            self._stage = _HEADER
            self._header_deadline = None

    def _tighten(self, seconds: float, deadline: str) -> None:
        """Make sure the next blocking call waits at most about ``seconds``.

        :raises SlowClient: when no time is left for ``deadline``.
        """
        if seconds <= 0:
            raise self._drop(deadline)
        current = self.gettimeout()
        if current is None or current > seconds + SLACK_SECONDS:
            super().settimeout(seconds)

    def _drop(self, deadline: str) -> SlowClient:
        limits = self.limits
        reason = {
            "handshake": f"TLS handshake not done within {limits.handshake:g} s",
            "header": f"request head not received within {limits.header:g} s",
            "idle": f"no body received for {limits.idle:g} s",
            "rate": f"body slower than {limits.min_body_rate} B/s for {limits.body_window:g} s",
            "send": f"response not read for {limits.idle:g} s",
        }[deadline]
        try:
            host, port = self.getpeername()[:2]
            peer = f"{host}:{port}"
        except OSError:
            peer = "a client"
        log.info("Dropping slow client %s: %s", peer, reason)
        self._stage = _DROPPED
        return SlowClient(reason)


def socket_class(limits: Limits) -> type[DeadlineSocket]:
    """A :class:`DeadlineSocket` class enforcing ``limits``, for ``SSLContext.sslsocket_class``.

    Make it once: gunicorn builds a new SSL context for every connection.
    """
    return type("DeadlineSocket", (DeadlineSocket,), {"limits": limits})


def _socket_of(request: object) -> DeadlineSocket | None:
    sock = getattr(getattr(request, "unreader", None), "sock", None)
    return sock if isinstance(sock, DeadlineSocket) else None


def request_started(request: object) -> None:
    """For gunicorn's ``pre_request`` hook: the head of ``request`` has been read."""
    if sock := _socket_of(request):
        sock.start_request()


def request_finished(request: object) -> None:
    """For gunicorn's ``post_request`` hook: the response to ``request`` has been sent."""
    if sock := _socket_of(request):
        sock.finish_request()

"""Slow clients cannot starve the others: stalled handshakes, slowloris, slow POST.

Every stalled connection below holds one of gunicorn's threads (see ``deadlines.py``). The
tests check that the production thread count serves a normal client while 48 of them are
held, that each kind is cut off by its deadline, and that nginx in front
(``deploy/nginx.conf``) keeps them away from gunicorn altogether.
"""

from __future__ import annotations

import time
import typing as t

import pytest
from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT  # type: ignore[import-untyped]

from .stalls import CUT_MARGIN_SECONDS
from .stalls import KEEPALIVE
from .stalls import LIMITS
from .stalls import PRODUCTION_ENV
from .stalls import STALLED
from .stalls import MiB
from .stalls import Stalls
from .stalls import assert_served_in_time
from .stalls import upload_file

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e


def test_48_stalled_connections_do_not_stop_a_download(
    live_server_factory: Callable[..., LiveServer], stalls: Callable[..., Stalls]
) -> None:
    server = live_server_factory(env=PRODUCTION_ENV)
    path, content = upload_file(server, 5 * MiB)
    held = stalls(server.port, server.ca_file)
    for kind, count in (("silent", 8), ("hello", 8), ("head", 16), ("body", 16)):
        held.open(kind, count)
    held.start(seconds=30)
    assert len(held.sockets) == STALLED

    assert_served_in_time(server, path, content)
    # Every stalled connection was still held while the download ran.
    assert held.open_count() == STALLED


def test_each_stall_is_cut_off_by_its_deadline(
    live_server_factory: Callable[..., LiveServer], stalls: Callable[..., Stalls]
) -> None:
    server = live_server_factory(env=PRODUCTION_ENV)
    expected = {
        "silent": DEFAULT_WORKER_DATA_TIMEOUT + KEEPALIVE,  # gunicorn's own, no thread after 5 s
        "hello": LIMITS.handshake,
        "head": LIMITS.header,
        "body": LIMITS.body_window,
    }
    held = stalls(server.port, server.ca_file)
    for kind in expected:
        held.open(kind, 2)
    held.start(seconds=max(expected.values()) + 2 * CUT_MARGIN_SECONDS)

    deadline = time.monotonic() + max(expected.values()) + CUT_MARGIN_SECONDS
    while len(held.closed_after) < len(held.sockets) and time.monotonic() < deadline:
        time.sleep(0.2)
    for index, (kind, _) in enumerate(held.sockets):
        assert index in held.closed_after, f"a {kind!r} stall was never cut off"
        # Not before its deadline (minus the dribbler's one-second steps), not long after.
        assert expected[kind] - 1.5 < held.closed_after[index] < expected[kind] + CUT_MARGIN_SECONDS
    log = server.log()
    assert f"TLS handshake not done within {LIMITS.handshake:g} s" in log
    assert f"request head not received within {LIMITS.header:g} s" in log
    assert f"body slower than {LIMITS.min_body_rate} B/s" in log
    assert "Traceback" not in log


def test_clients_that_never_close_do_not_stall_the_worker(
    live_server_factory: Callable[..., LiveServer], stalls: Callable[..., Stalls]
) -> None:
    # Gunicorn closes a connection on its event loop, waiting up to 2 s for the client to
    # close too: 24 clients that never do would block both workers for about 24 s.
    server = live_server_factory(env=PRODUCTION_ENV)
    path, content = upload_file(server, 5 * MiB)
    held = stalls(server.port, server.ca_file)
    held.open("linger", 24)  # connected, nothing sent yet
    for _, sock in held.sockets:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answered = time.monotonic() + 10
    while held.open_count() and time.monotonic() < answered:
        time.sleep(0.05)
    assert held.open_count() == 0, "the requests were not answered"

    assert_served_in_time(server, path, content)

"""Malformed and ambiguous HTTP framing over raw TLS: refused, never smuggled, nothing kept.

Every request here is written byte by byte on a raw TLS socket. An ambiguous framing
(Content-Length with Transfer-Encoding, two lengths, an obfuscated Transfer-Encoding, a bad
chunk) must get a clear 4xx (or 501 for an unknown coding) and a closed connection, never a
2xx. Behind each one a second request is pipelined that would delete a victim file: if the
server ever answered it, the framing was read two ways. Afterwards nothing was stored, no
temporary file is left, and the server answers a normal request at once.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
import typing as t
import zlib

import pytest

from .wire import assert_consistent
from .wire import assert_responsive
from .wire import connect
from .wire import exchange
from .wire import read_until_closed
from .wire import reset

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e

CHUNKED_ABC = b"3\r\nabc\r\n0\r\n\r\n"
ABC_SHA256 = hashlib.sha256(b"abc").hexdigest()


@pytest.fixture(scope="module")
def victim(live_server: LiveServer) -> Iterator[str]:
    """A stored file that a smuggled request would delete."""
    session = live_server.session()
    created = session.put(live_server.url("/upload/victim.txt"), data=b"victim", timeout=10)
    file_id: str = created.json()["files"][0]["id"]
    yield file_id
    session.delete(live_server.url(f"/api/files/{file_id}"), timeout=10)


def _token() -> str:
    return os.urandom(6).hex()


def _smuggled(victim: str) -> bytes:
    return (
        f"DELETE /api/files/{victim} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    ).encode()


def _stored_named(server: LiveServer, token: str) -> list[dict[str, t.Any]]:
    listing = server.session().get(server.url("/api/files"), params={"q": token}, timeout=10)
    return t.cast(list[dict[str, t.Any]], listing.json()["files"])


def _assert_nothing_happened(server: LiveServer, victim: str, token: str) -> None:
    assert server.session().get(server.url(f"/api/files/{victim}"), timeout=10).status_code == 200
    assert _stored_named(server, token) == []
    assert_consistent(server)
    assert_responsive(server)


# Each: the header lines after Host, and the body that follows them.
AMBIGUOUS = {
    "cl-then-te": (b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", CHUNKED_ABC),
    "te-then-cl": (b"Transfer-Encoding: chunked\r\nContent-Length: 13\r\n", CHUNKED_ABC),
    "cl-twice-different": (b"Content-Length: 3\r\nContent-Length: 13\r\n", CHUNKED_ABC),
    "cl-twice-same": (b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"),
    "cl-list": (b"Content-Length: 3, 3\r\n", b"abc"),
    "cl-plus": (b"Content-Length: +3\r\n", b"abc"),
    "cl-negative": (b"Content-Length: -3\r\n", b"abc"),
    "cl-hex": (b"Content-Length: 0x3\r\n", b"abc"),
    "cl-superscript": (b"Content-Length: \xb3\r\n", b"abc"),
    "cl-with-nul": (b"Content-Length: 3\x00\r\n", b"abc"),
    "te-chunked-identity": (b"Transfer-Encoding: chunked, identity\r\n", CHUNKED_ABC),
    "te-chunked-chunked": (b"Transfer-Encoding: chunked, chunked\r\n", CHUNKED_ABC),
    "te-chunked-gzip": (b"Transfer-Encoding: chunked, gzip\r\n", CHUNKED_ABC),
    "te-two-headers": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        CHUNKED_ABC,
    ),
    "te-then-identity": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        CHUNKED_ABC,
    ),
    "te-identity-with-cl": (b"Transfer-Encoding: identity\r\nContent-Length: 3\r\n", b"abc"),
    "te-xchunked": (b"Transfer-Encoding: xchunked\r\n", CHUNKED_ABC),
    "te-chunked-x": (b"Transfer-Encoding: chunkedx\r\n", CHUNKED_ABC),
    "te-obs-fold": (b"Transfer-Encoding:\r\n chunked\r\n", CHUNKED_ABC),
    "te-space-before-colon": (b"Transfer-Encoding : chunked\r\n", CHUNKED_ABC),
    "te-leading-space-line": (b" Transfer-Encoding: chunked\r\n", CHUNKED_ABC),
    "te-vertical-tab": (b"Transfer-Encoding: \x0bchunked\r\n", CHUNKED_ABC),
    "te-bare-lf": (b"Content-Length: 3\nTransfer-Encoding: chunked\r\n", CHUNKED_ABC),
    "chunk-size-0x": (b"Transfer-Encoding: chunked\r\n", b"0x3\r\nabc\r\n0\r\n\r\n"),
    "chunk-size-negative": (b"Transfer-Encoding: chunked\r\n", b"-3\r\nabc\r\n0\r\n\r\n"),
    "chunk-size-space": (b"Transfer-Encoding: chunked\r\n", b" 3\r\nabc\r\n0\r\n\r\n"),
    "chunk-size-bare-lf": (b"Transfer-Encoding: chunked\r\n", b"3\nabc\n0\n\n"),
    "chunk-ext-control": (b"Transfer-Encoding: chunked\r\n", b"3;\x01\r\nabc\r\n0\r\n\r\n"),
    "chunk-ext-bare-cr": (b"Transfer-Encoding: chunked\r\n", b"3;a=b\rc\r\nabc\r\n0\r\n\r\n"),
    "chunk-longer-than-size": (b"Transfer-Encoding: chunked\r\n", b"3\r\nabcdef\r\n0\r\n\r\n"),
    "chunk-size-line-too-long": (b"Transfer-Encoding: chunked\r\n", b"0" * 9000 + b"3\r\n"),
}


def test_the_smuggled_request_would_be_seen(live_server: LiveServer) -> None:
    # Control: behind a well-framed request the same bytes are a real, answered request, so
    # a victim that survives the cases below proves the server did not read them as one.
    session = live_server.session()
    created = session.put(live_server.url("/upload/control.txt"), data=b"control", timeout=10)
    control = created.json()["files"][0]["id"]
    transcript = exchange(
        live_server,
        b"PUT /upload/framing-control.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 3\r\n\r\nabc" + _smuggled(control),
    )
    stored, deleted = transcript.responses
    assert (stored.status, deleted.status) == (201, 204)
    assert session.get(live_server.url(f"/api/files/{control}"), timeout=10).status_code == 404
    stored_id = json.loads(stored.body)["files"][0]["id"]
    session.delete(live_server.url(f"/api/files/{stored_id}"), timeout=10)


@pytest.mark.parametrize(("headers", "body"), AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_framing_is_refused_and_not_smuggled(
    live_server: LiveServer, victim: str, headers: bytes, body: bytes
) -> None:
    _assert_refused_and_not_smuggled(live_server, victim, b"HTTP/1.1", headers + b"\r\n" + body)


def test_chunked_http_1_0_is_refused_and_not_smuggled(live_server: LiveServer, victim: str) -> None:
    # HTTP/1.0 has no chunked coding: a 1.0 front end would read this body differently.
    message = b"Transfer-Encoding: chunked\r\n\r\n" + CHUNKED_ABC
    _assert_refused_and_not_smuggled(live_server, victim, b"HTTP/1.0", message)


def _assert_refused_and_not_smuggled(
    server: LiveServer, victim: str, version: bytes, message: bytes
) -> None:
    token = _token()
    transcript = exchange(
        server,
        b"PUT /upload/framing-%s.bin %s\r\nHost: 127.0.0.1\r\n%s%s"
        % (token.encode(), version, message, _smuggled(victim)),
    )
    assert transcript.closed
    (response,) = transcript.responses
    assert 400 <= response.status < 500 or response.status == 501
    _assert_nothing_happened(server, victim, token)


@pytest.mark.parametrize(
    "size_line", [b"f" * 40, b"10000000000000003"], ids=["huge", "wraps-at-64-bits"]
)
def test_oversized_chunk_waits_for_its_data_and_smuggles_nothing(
    live_server: LiveServer, victim: str, size_line: bytes
) -> None:
    # A size that overflows a 64-bit counter is not 3: what follows is chunk data, not a
    # request. The server waits for the rest of the chunk; when the client leaves, nothing
    # is kept.
    token = _token()
    log_offset = len(live_server.log())
    with connect(live_server) as connection:
        connection.sendall(
            b"PUT /upload/framing-%s.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n%s\r\nabc\r\n0\r\n\r\n%s"
            % (token.encode(), size_line, _smuggled(victim))
        )
        assert read_until_closed(connection, timeout=1.0).data == b""
    live_server.wait_for_log(f'"PUT /upload/framing-{token}.bin HTTP/1.1" 400', log_offset)
    _assert_nothing_happened(live_server, victim, token)


UNUSUAL_BUT_VALID = {
    "te-extra-space": (b"Transfer-Encoding:   chunked  \r\n", CHUNKED_ABC),
    "te-tab": (b"Transfer-Encoding:\tchunked\r\n", CHUNKED_ABC),
    "te-uppercase": (b"Transfer-Encoding: CHUNKED\r\n", CHUNKED_ABC),
    "chunk-extensions": (
        b"Transfer-Encoding: chunked\r\n",
        b'1;a=b\r\na\r\n2 ; name="quoted value"\r\nbc\r\n0\r\n\r\n',
    ),
    "chunk-size-leading-zeros": (b"Transfer-Encoding: chunked\r\n", b"0003\r\nabc\r\n0\r\n\r\n"),
    "trailer": (b"Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n"),
    "cl-leading-zeros": (b"Content-Length: 003\r\n", b"abc"),
}


@pytest.mark.parametrize(("headers", "body"), UNUSUAL_BUT_VALID.values(), ids=UNUSUAL_BUT_VALID)
def test_valid_framing_stores_exactly_the_body(
    live_server: LiveServer, headers: bytes, body: bytes
) -> None:
    # These spellings mean one thing to every parser that follows RFC 9112, so the request
    # after the body is the client's own next request, answered as such.
    token = _token()
    listing = (
        f"GET /api/files?q={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    ).encode()
    transcript = exchange(
        live_server,
        b"PUT /upload/exact-%s.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n%s%s"
        % (token.encode(), headers, body, listing),
    )
    created, listed = transcript.responses
    assert created.status == 201
    (record,) = json.loads(created.body)["files"]
    assert (record["size"], record["sha256"]) == (3, ABC_SHA256)
    assert json.loads(listed.body)["files"] == [record]
    live_server.session().delete(live_server.url(f"/api/files/{record['id']}"), timeout=10)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [(b"gzip", gzip.compress), (b"deflate", zlib.compress)],
    ids=["gzip", "deflate"],
)
def test_transfer_coding_the_server_cannot_decode(
    live_server: LiveServer, victim: str, coding: bytes, compress: t.Callable[[bytes], bytes]
) -> None:
    # The client sends a file through a compressing transfer coding: storing the coded
    # bytes would keep a file the client never sent. Decode it, or refuse it (RFC 9112 6.1).
    token = _token()
    content = b"the file the client meant\n" * 50
    coded = compress(content)
    transcript = exchange(
        live_server,
        b"PUT /upload/coded-%s.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        b"Transfer-Encoding: %s, chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
        % (token.encode(), coding, len(coded), coded),
    )
    response = transcript.responses[0]
    if response.status == 201:
        (record,) = json.loads(response.body)["files"]
        live_server.session().delete(live_server.url(f"/api/files/{record['id']}"), timeout=10)
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
    else:
        assert 400 <= response.status < 500 or response.status == 501
        _assert_nothing_happened(live_server, victim, token)


def test_body_longer_than_content_length(live_server: LiveServer, victim: str) -> None:
    # The bytes after the announced body start the next request: here garbage, refused.
    token = _token()
    transcript = exchange(
        live_server,
        b"PUT /upload/longer-%s.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\n"
        b"abc\x00\x01 not a request \r\n\r\n" % token.encode(),
    )
    assert transcript.closed
    created, refused = transcript.responses
    (record,) = json.loads(created.body)["files"]
    assert (record["size"], record["sha256"]) == (3, ABC_SHA256)
    assert refused.status == 400
    live_server.session().delete(live_server.url(f"/api/files/{record['id']}"), timeout=10)
    _assert_nothing_happened(live_server, victim, token)


def test_h2c_upgrade_over_tls_is_ignored(live_server: LiveServer) -> None:
    # h2c is for cleartext only; honoured here, the next bytes would be read as HTTP/2.
    transcript = exchange(
        live_server,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    assert [response.status for response in transcript.responses] == [200, 200]


def _first_file_part() -> bytes:
    return b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize(
    "kind", ["put", "put-chunked", "multipart", "multipart-chunked", "headers-only"]
)
def test_client_that_goes_away_mid_upload_leaves_nothing(
    live_server: LiveServer, victim: str, kind: str, how: str
) -> None:
    token = _token()
    data = os.urandom(3 * 1024 * 1024)
    if kind.startswith("put"):
        line = f"PUT /upload/gone-{token}.bin HTTP/1.1"
        head = f"{line}\r\nHost: 127.0.0.1\r\n".encode()
    else:
        line = f"POST /upload?t={token} HTTP/1.1"
        head = f"{line}\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\n"
        head = head.encode()
        data = _first_file_part() + data
    if kind.endswith("chunked"):
        request = head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (2 * len(data)) + data
    elif kind == "headers-only":
        request = head + b"Content-Length: 1000\r\n\r\n"
    else:
        request = head + b"Content-Length: %d\r\n\r\n" % (2 * len(data)) + data
    log_offset = len(live_server.log())
    connection = connect(live_server)
    connection.sendall(request)
    time.sleep(0.2)
    if how == "reset":
        reset(connection)
    else:
        connection.close()
    live_server.wait_for_log(f'"{line}" 400', log_offset)
    _assert_nothing_happened(live_server, victim, token)

"""End to end over real TLS: gunicorn as in production, a real HTTPS client, the real disk.

These tests check what unit tests cannot: that bodies stream through gunicorn in both
directions, that what lands on disk is an age file the standard ``age`` tool opens, and that
an upload cut off mid-body stores nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import subprocess
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
AGE_MAGIC = b"age-encryption.org/v1\n"


def _blob_path(server: LiveServer, file_id: str) -> Path:
    return server.instance_path / "storage" / f"{file_id}.age"


def _listed_ids(server: LiveServer) -> set[str]:
    response = server.session().get(server.url("/api/files"), timeout=10)
    return {f["id"] for f in response.json()["files"]}


def _temp_files(server: LiveServer) -> list[Path]:
    return list((server.instance_path / "storage").glob(".incoming-*"))


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536, 5 * MiB + 7])
def test_put_then_download_is_byte_identical(live_server: LiveServer, size: int) -> None:
    content = os.urandom(size)
    session = live_server.session()
    created = session.put(live_server.url(f"/upload/sample-{size}.bin"), data=content, timeout=60)
    assert created.status_code == 201, created.text
    (record,) = created.json()["files"]
    assert record["size"] == size
    assert record["sha256"] == hashlib.sha256(content).hexdigest()

    downloaded = session.get(live_server.url(record["download_url"]), timeout=60)
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Length"] == str(size)
    assert downloaded.content == content


def test_multipart_upload_of_several_files(live_server: LiveServer) -> None:
    contents = {"first.txt": b"first file\n", "second.bin": os.urandom(300_000)}
    files = [("file", (name, data)) for name, data in contents.items()]
    session = live_server.session()
    created = session.post(
        live_server.url("/upload"), files=files, headers={"Accept": "application/json"}, timeout=60
    )
    assert created.status_code == 201, created.text
    records = created.json()["files"]
    assert [r["name"] for r in records] == list(contents)
    for record in records:
        body = session.get(live_server.url(record["download_url"]), timeout=60).content
        assert body == contents[record["name"]]


def test_stored_blob_is_an_age_file_that_the_age_tool_opens(live_server: LiveServer) -> None:
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    content = marker * 20_000
    created = live_server.session().put(
        live_server.url("/upload/marked.txt"), data=content, timeout=60
    )
    (record,) = created.json()["files"]
    blob = _blob_path(live_server, record["id"]).read_bytes()
    assert blob.startswith(AGE_MAGIC)
    assert marker not in blob

    identity = live_server.instance_path / "identity.txt"
    decrypted = subprocess.run(
        [
            "age",
            "--decrypt",
            "--identity",
            str(identity),
            str(_blob_path(live_server, record["id"])),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert decrypted.stdout == content


def _generated_chunks(total: int, seed: bytes) -> Iterator[bytes]:
    """Deterministic pseudo-random data, made on the fly so it never sits in memory whole."""
    block = hashlib.sha512(seed).digest() * (MiB // 64)
    for index in range(total // MiB):
        yield index.to_bytes(8, "big") + block[8:]


def test_200_mib_streamed_upload_and_download(live_server: LiveServer) -> None:
    total = 200 * MiB
    expected = hashlib.sha256()
    for chunk in _generated_chunks(total, b"big"):
        expected.update(chunk)

    session = live_server.session()
    # A generator body makes requests send it with chunked transfer encoding.
    created = session.put(
        live_server.url("/upload/big.bin"), data=_generated_chunks(total, b"big"), timeout=300
    )
    assert created.status_code == 201, created.text
    (record,) = created.json()["files"]
    assert record["size"] == total
    assert record["sha256"] == expected.hexdigest()

    received = hashlib.sha256()
    size = 0
    with session.get(live_server.url(record["download_url"]), stream=True, timeout=300) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(MiB):
            received.update(chunk)
            size += len(chunk)
    assert size == total
    assert received.hexdigest() == expected.hexdigest()


def _tls_connection(server: LiveServer) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _read_response(connection: ssl.SSLSocket) -> bytes:
    """Read one whole HTTP response that carries a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def test_put_cut_short_stores_nothing(live_server: LiveServer) -> None:
    before = _listed_ids(live_server)
    log_offset = len(live_server.log())
    with _tls_connection(live_server) as connection:
        connection.sendall(
            b"PUT /upload/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 10485760\r\n\r\n" + os.urandom(MiB)
        )
    live_server.wait_for_log('"PUT /upload/cut.bin HTTP/1.1" 400', log_offset)
    assert _listed_ids(live_server) == before
    assert _temp_files(live_server) == []


def test_multipart_without_closing_boundary_stores_nothing(live_server: LiveServer) -> None:
    before = _listed_ids(live_server)
    log_offset = len(live_server.log())
    first_part = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        + b"complete first file"
        + b'\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n\r\n'
        + os.urandom(MiB)
    )
    with _tls_connection(live_server) as connection:
        connection.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=XyZ\r\n"
            b"Content-Length: %d\r\n\r\n" % (len(first_part) + 100) + first_part
        )
    live_server.wait_for_log('"POST /upload HTTP/1.1" 400', log_offset)
    assert _listed_ids(live_server) == before
    assert _temp_files(live_server) == []


@pytest.fixture
def small_limit_server(live_server_factory: t.Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(env={"SECURESERVER_MAX_CONTENT_LENGTH": str(MiB)})


def test_too_large_is_refused_before_the_body(small_limit_server: LiveServer) -> None:
    server = small_limit_server
    with _tls_connection(server) as connection:
        # Announce a body larger than the limit and send none of it: the answer must not wait.
        connection.sendall(
            b"PUT /upload/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Accept: application/json\r\nContent-Length: 2097152\r\n\r\n"
        )
        reply = _read_response(connection)
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"error"' in reply
    assert b"1048576 bytes" in reply


def test_chunked_body_over_the_limit_is_refused_and_stores_nothing(
    small_limit_server: LiveServer,
) -> None:
    session = small_limit_server.session()
    # No Content-Length: the limit can only be enforced while the body streams in.
    response = session.put(
        small_limit_server.url("/upload/endless.bin"),
        data=_generated_chunks(3 * MiB, b"over"),
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["error"]
    assert _listed_ids(small_limit_server) == set()
    assert _temp_files(small_limit_server) == []

"""Damaged, swapped and forged blobs over real TLS: only authenticated bytes of the right file.

The live server's blobs are changed on disk, as a failing disk or anyone who can write to
``storage/`` would change them, and each download is read with a raw TLS socket so that
every byte that reaches the client is counted. Damage found before the response starts is
a 500 with a JSON error (and a log line); damage found mid-stream ends the connection after
the last authentic chunk, short of Content-Length.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import typing as t

import pytest

from secureserver.crypto import CHUNK_SIZE

from .wire import assert_consistent
from .wire import exchange

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from pathlib import Path

    from .live_server import LiveServer
    from .wire import Response

pytestmark = pytest.mark.e2e

SEALED_CHUNK = CHUNK_SIZE + 16
NONCE_SIZE = 16
CHUNKS = 8
INTEGRITY_ERROR = {"error": "the stored file failed its integrity check"}

Upload: t.TypeAlias = "Callable[[bytes], dict[str, t.Any]]"


@pytest.fixture
def upload(live_server: LiveServer) -> Iterator[Callable[[bytes], dict[str, t.Any]]]:
    """PUT files; afterwards delete them, so no damaged blob outlives its test."""
    session = live_server.session()
    created: list[str] = []

    def put(content: bytes) -> dict[str, t.Any]:
        response = session.put(live_server.url("/upload/victim.bin"), data=content, timeout=30)
        assert response.status_code == 201, response.text
        record: dict[str, t.Any] = response.json()["files"][0]
        created.append(record["id"])
        return record

    yield put
    for file_id in created:
        deleted = session.delete(live_server.url(f"/api/files/{file_id}"), timeout=10)
        assert deleted.status_code == 204
    assert_consistent(live_server)


def _blob(server: LiveServer, file_id: str) -> Path:
    return server.instance_path / "storage" / f"{file_id}.age"


def _payload_start(blob: bytes) -> int:
    """Where chunk 0 starts: after the header (up to the ``--- <mac>`` line) and the nonce."""
    return blob.index(b"\n", blob.index(b"\n--- ") + 1) + 1 + NONCE_SIZE


def _flip(blob: bytes, offset: int) -> bytes:
    """Change one byte; a base64 letter or digit becomes another one, so the header still
    parses and only its MAC can tell."""
    damaged = bytearray(blob)
    if chr(damaged[offset]).isalnum():
        damaged[offset] = ord("B") if damaged[offset] == ord("A") else ord("A")
    else:
        damaged[offset] ^= 0x01
    return bytes(damaged)


def _download(server: LiveServer, file_id: str, headers: bytes = b"") -> Response:
    transcript = exchange(
        server,
        f"GET /download/{file_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        + headers
        + b"Connection: close\r\n\r\n",
    )
    assert transcript.closed
    (response,) = transcript.responses
    return response


def _assert_refused_before_any_byte(server: LiveServer, file_id: str, log_offset: int) -> str:
    """A JSON 500 and no byte of any file; an error in the log. Returns the log's errors."""
    response = _download(server, file_id)
    assert response.status == 500
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == INTEGRITY_ERROR
    assert response.header("Content-Disposition") is None
    assert response.header("ETag") is None
    log = server.wait_for_log(f'"GET /download/{file_id} HTTP/1.1" 500', log_offset)
    errors = _errors(log)
    assert errors, log
    return "\n".join(errors)


def _errors(log: str) -> list[str]:
    """The error lines of a log, whether plain (``[ERROR]``) or JSON events."""
    return [
        line
        for line in log.splitlines()
        if '"level": "error"' in line or "[ERROR]" in line or "ERROR in " in line
    ]


def _assert_cut_after(server: LiveServer, file_id: str, content: bytes, good_bytes: int) -> None:
    """The response promised the whole file and stopped after exactly ``good_bytes``."""
    response = _download(server, file_id)
    assert response.status == 200
    assert int(response.header("Content-Length") or -1) == len(content)
    assert len(response.body) < len(content)
    assert response.body == content[:good_bytes]


def _header_version(blob: bytes) -> int:
    return 3


def _header_share(blob: bytes) -> int:
    return blob.index(b"-> X25519 ") + 15


def _header_wrapped_key(blob: bytes) -> int:
    return blob.index(b"\n", blob.index(b"-> X25519 ")) + 10


def _header_mac(blob: bytes) -> int:
    return blob.index(b"\n--- ") + 10


def _nonce(blob: bytes) -> int:
    return _payload_start(blob) - 5


@pytest.mark.parametrize(
    "where", [_header_version, _header_share, _header_wrapped_key, _header_mac, _nonce]
)
def test_damaged_header_refused_before_any_byte(
    live_server: LiveServer, upload: Upload, where: Callable[[bytes], int]
) -> None:
    record = upload(os.urandom(3 * CHUNK_SIZE))
    path = _blob(live_server, record["id"])
    path.write_bytes(_flip(path.read_bytes(), where(path.read_bytes())))
    _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))


def test_damaged_first_chunk_refused_before_any_byte(
    live_server: LiveServer, upload: Upload
) -> None:
    # Nothing has been sent when the first chunk fails: the client must get the JSON error,
    # not a bare server page, and the log must say what happened.
    record = upload(os.urandom((CHUNKS - 1) * CHUNK_SIZE + 1000))
    path = _blob(live_server, record["id"])
    blob = path.read_bytes()
    path.write_bytes(_flip(blob, _payload_start(blob) + 777))
    _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))


@pytest.mark.parametrize("bad_chunk", [1, 2, CHUNKS - 2])
def test_damaged_chunk_ends_the_stream_after_the_authentic_ones(
    live_server: LiveServer, upload: Upload, bad_chunk: int
) -> None:
    # The server decrypts a few chunks ahead of the socket: none of those may leak either.
    content = os.urandom((CHUNKS - 1) * CHUNK_SIZE + 1000)
    record = upload(content)
    path = _blob(live_server, record["id"])
    blob = path.read_bytes()
    path.write_bytes(_flip(blob, _payload_start(blob) + bad_chunk * SEALED_CHUNK + 777))
    log_offset = len(live_server.log())
    _assert_cut_after(live_server, record["id"], content, bad_chunk * CHUNK_SIZE)
    assert _errors(live_server.wait_for_log("DecryptionError", log_offset))


def test_reordered_chunks_end_the_stream_before_the_first_misplaced_one(
    live_server: LiveServer, upload: Upload
) -> None:
    content = os.urandom((CHUNKS - 1) * CHUNK_SIZE + 1000)
    record = upload(content)
    path = _blob(live_server, record["id"])
    blob = path.read_bytes()
    start = _payload_start(blob)
    chunks = [blob[start + i * SEALED_CHUNK : start + (i + 1) * SEALED_CHUNK] for i in (2, 3)]
    swapped = blob[: start + 2 * SEALED_CHUNK] + chunks[1] + chunks[0]
    path.write_bytes(swapped + blob[start + 4 * SEALED_CHUNK :])
    _assert_cut_after(live_server, record["id"], content, 2 * CHUNK_SIZE)


def test_damaged_chunk_inside_a_range(live_server: LiveServer, upload: Upload) -> None:
    content = os.urandom(4 * CHUNK_SIZE + 10)
    record = upload(content)
    path = _blob(live_server, record["id"])
    blob = path.read_bytes()
    path.write_bytes(_flip(blob, _payload_start(blob) + 2 * SEALED_CHUNK + 5))
    response = _download(live_server, record["id"], f"Range: bytes={CHUNK_SIZE + 10}-\r\n".encode())
    assert response.status == 206
    assert int(response.header("Content-Length") or -1) == len(content) - CHUNK_SIZE - 10
    assert response.body == content[CHUNK_SIZE + 10 : 2 * CHUNK_SIZE]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: _flip(blob, len(blob) - 20),
        lambda blob: blob[:-1],
        lambda blob: blob[: _payload_start(blob) + (CHUNKS - 1) * SEALED_CHUNK],
        lambda blob: blob + b"\x00",
        lambda blob: blob + blob[_payload_start(blob) : _payload_start(blob) + SEALED_CHUNK],
        lambda blob: (
            blob[: _payload_start(blob) + SEALED_CHUNK]
            + blob[_payload_start(blob) + 2 * SEALED_CHUNK :]
        ),
    ],
    ids=[
        "final-chunk-flipped",
        "last-byte-cut",
        "final-chunk-dropped",
        "byte-appended",
        "chunk-appended",
        "middle-chunk-removed",
    ],
)
def test_truncated_or_extended_blob_refused_before_any_byte(
    live_server: LiveServer, upload: Upload, damage: Callable[[bytes], bytes]
) -> None:
    # The final chunk and the size are checked before the response starts.
    record = upload(os.urandom((CHUNKS - 1) * CHUNK_SIZE + 1000))
    path = _blob(live_server, record["id"])
    path.write_bytes(damage(path.read_bytes()))
    _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))


def test_swapped_blobs_refused(live_server: LiveServer, upload: Upload) -> None:
    # Same size, same identity: each blob decrypts cleanly, as the other file.
    first, second = upload(os.urandom(CHUNK_SIZE + 1)), upload(os.urandom(CHUNK_SIZE + 1))
    a, b = _blob(live_server, first["id"]), _blob(live_server, second["id"])
    blob_a, blob_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(blob_b)
    b.write_bytes(blob_a)
    for record in (first, second):
        errors = _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))
        assert "BlobMismatch" in errors
        assert record["id"] in errors


def test_blob_forged_with_the_public_recipient_refused(
    live_server: LiveServer, upload: Upload
) -> None:
    # Writing a valid age file needs only the public key, which is no secret.
    content = os.urandom(2 * CHUNK_SIZE + 5)
    record = upload(content)
    identity = (live_server.instance_path / "identity.txt").read_text()
    recipient = re.search(r"^# public key: (age1[0-9a-z]+)$", identity, re.MULTILINE)
    assert recipient is not None
    forged_content = b"forged by someone who can write to storage/".ljust(len(content), b"!")
    forged = subprocess.run(
        ["age", "--encrypt", "--recipient", recipient.group(1)],
        input=forged_content,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    _blob(live_server, record["id"]).write_bytes(forged)
    errors = _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))
    assert "BlobMismatch" in errors
    assert record["id"] in errors


def test_integrity_failure_in_the_log_names_the_file(
    live_server: LiveServer, upload: Upload
) -> None:
    # An admin reading the log must be able to tell which stored file is damaged.
    record = upload(os.urandom(100))
    path = _blob(live_server, record["id"])
    path.write_bytes(_flip(path.read_bytes(), _header_mac(path.read_bytes())))
    errors = _assert_refused_before_any_byte(live_server, record["id"], len(live_server.log()))
    assert record["id"] in errors

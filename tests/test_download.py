"""GET /download/<id>: verified plaintext, RFC 6266 headers, and refusal of damaged blobs.

Blobs are tampered with on disk the way a faulty disk or an attacker with write access would:
a flipped byte in the header, nonce or payload, a truncated or extended file, or two blobs
swapped. Damage found before the response starts is a 500; damage in a middle chunk ends the
stream after the last authentic chunk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import typing as t
import warnings
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from secureserver import create_app
from secureserver.crypto import DecryptionError

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

SIZES = [0, 1, 65536, 65537, 1024 * 1024 + 3]
CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
NONCE_SIZE = 16
INTEGRITY_ERROR = {"error": "the stored file failed its integrity check"}


def upload(client: FlaskClient, data: bytes, name: str = "file.bin") -> dict[str, t.Any]:
    response = client.put(f"/upload/{name}", data=data)
    assert response.status_code == 201
    return t.cast(dict[str, t.Any], response.json["files"][0])


def blob_path(app: Flask, file_id: str) -> Path:
    return Path(app.instance_path) / "storage" / f"{file_id}.age"


def header_size(blob: bytes) -> int:
    """The size of the age header: up to and including the ``--- <mac>`` line."""
    return blob.index(b"\n", blob.index(b"\n--- ") + 1) + 1


def tamper(path: Path, offset: int) -> None:
    """Change one byte; a letter or digit becomes another one, so base64 stays base64."""
    blob = bytearray(path.read_bytes())
    if chr(blob[offset]).isalnum():
        blob[offset] = ord("B") if blob[offset] == ord("A") else ord("A")
    else:
        blob[offset] ^= 0x01
    path.write_bytes(bytes(blob))


def open_descriptors_to(path: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return [target for target in targets if target == str(path)]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_headers(client: FlaskClient, size: int) -> None:
    data = os.urandom(size)
    entry = upload(client, data, "report.pdf")
    response = client.get(f"/download/{entry['id']}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Length"] == str(size)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "disposition"),
    [
        ("plain%20name.txt", 'attachment; filename="plain name.txt"'),
        (
            "r%C3%A9sum%C3%A9.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "%E6%97%A5%E6%9C%AC.txt",
            "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
        ),
        (
            "say%20%22hi%22.txt",
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        # A fullwidth reverse solidus decomposes to a backslash in the ASCII fallback.
        ("a%EF%BC%BCb.txt", "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%EF%BC%BCb.txt"),
    ],
)
def test_content_disposition(client: FlaskClient, path: str, disposition: str) -> None:
    entry = upload(client, b"x", path)
    with client.get(f"/download/{entry['id']}") as response:
        assert response.headers["Content-Disposition"] == disposition


@pytest.mark.parametrize(
    "file_id",
    ["A" * 22, "..", "%2e%2e", "a" * 21, "a" * 23, "a" * 21 + "!", "..%2F..%2Fidentity.txt"],
)
def test_unknown_or_malformed_id(client: FlaskClient, file_id: str) -> None:
    response = client.get(f"/download/{file_id}")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]


def test_unknown_id_for_a_browser(client: FlaskClient) -> None:
    response = client.get("/download/" + "A" * 22, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Error 404" in response.get_data(as_text=True)


def test_missing_blob(app: Flask, client: FlaskClient) -> None:
    entry = upload(client, b"data")
    blob_path(app, entry["id"]).unlink()
    response = client.get(f"/download/{entry['id']}")
    assert response.status_code == 404
    assert response.json["error"]


def test_identity_gone(app: Flask, client: FlaskClient) -> None:
    entry = upload(client, b"data")
    (Path(app.instance_path) / "identity.txt").unlink()
    fresh = create_app({"TESTING": True}, instance_path=app.instance_path).test_client()
    response = fresh.get(f"/download/{entry['id']}")
    assert response.status_code == 503
    assert response.json["error"]


def _header_start(blob: bytes) -> int:
    return 0


def _stanza(blob: bytes) -> int:
    return blob.index(b"-> X25519 ") + 12


def _header_mac(blob: bytes) -> int:
    return header_size(blob) - 5


def _nonce(blob: bytes) -> int:
    return header_size(blob) + 3


def _final_chunk(blob: bytes) -> int:
    return len(blob) - 1


@pytest.mark.parametrize("where", [_header_start, _stanza, _header_mac, _nonce, _final_chunk])
@pytest.mark.parametrize("size", [0, 100, 2 * CHUNK + 100])
def test_flipped_byte_refused_before_body(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    where: t.Callable[[bytes], int],
    size: int,
) -> None:
    entry = upload(client, os.urandom(size))
    path = blob_path(app, entry["id"])
    tamper(path, where(path.read_bytes()))
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/download/{entry['id']}")
    assert response.status_code == 500
    assert response.json == INTEGRITY_ERROR
    assert "Content-Disposition" not in response.headers
    # The client gets one generic message; the details go to the log.
    logged = [r.levelno for r in caplog.records if r.name.startswith("secureserver")]
    assert [level for level in logged if level >= logging.WARNING] == [logging.ERROR]


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],
        lambda blob: blob + b"\x00",
        lambda blob: blob[: header_size(blob) + NONCE_SIZE + 2 * SEALED_CHUNK],
        lambda blob: blob[: header_size(blob)],
        lambda blob: b"",
    ],
    ids=["last-byte-cut", "byte-appended", "final-chunk-dropped", "payload-gone", "empty"],
)
def test_truncated_or_extended_blob(
    app: Flask, client: FlaskClient, damage: t.Callable[[bytes], bytes]
) -> None:
    entry = upload(client, os.urandom(2 * CHUNK + 100))
    path = blob_path(app, entry["id"])
    path.write_bytes(damage(path.read_bytes()))
    response = client.get(f"/download/{entry['id']}")
    assert response.status_code == 500
    assert response.json == INTEGRITY_ERROR


def test_swapped_blobs_refused(app: Flask, client: FlaskClient) -> None:
    # Same size, same identity: each blob decrypts, but not as the file its row describes.
    first, second = upload(client, os.urandom(1000)), upload(client, os.urandom(1000))
    a, b = blob_path(app, first["id"]), blob_path(app, second["id"])
    spare = a.with_name("spare")
    os.rename(a, spare)
    os.rename(b, a)
    os.rename(spare, b)
    for entry in (first, second):
        response = client.get(f"/download/{entry['id']}")
        assert response.status_code == 500
        assert response.json == INTEGRITY_ERROR


def test_copied_blob_refused(app: Flask, client: FlaskClient) -> None:
    original, victim = upload(client, b"original"), upload(client, b"replaced")
    blob_path(app, victim["id"]).write_bytes(blob_path(app, original["id"]).read_bytes())
    assert client.get(f"/download/{victim['id']}").status_code == 500
    assert client.get(f"/download/{original['id']}").data == b"original"


@pytest.mark.parametrize(("chunks", "bad_chunk"), [(3, 1), (4, 1), (4, 2)])
def test_flipped_middle_chunk_ends_stream(
    app: Flask, client: FlaskClient, chunks: int, bad_chunk: int
) -> None:
    data = os.urandom((chunks - 1) * CHUNK + 100)
    entry = upload(client, data)
    path = blob_path(app, entry["id"])
    payload = header_size(path.read_bytes()) + NONCE_SIZE
    tamper(path, payload + bad_chunk * SEALED_CHUNK + 1000)
    response = client.get(f"/download/{entry['id']}")
    # The headers are already out when the damage is found.
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(data))
    received = []
    with pytest.raises(DecryptionError):
        for chunk in response.response:
            received.append(chunk)
    response.close()
    assert b"".join(received) == data[: bad_chunk * CHUNK]
    assert open_descriptors_to(path) == []


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_response_closed_unread_closes_blob(app: Flask, client: FlaskClient, method: str) -> None:
    # A WSGI server closes the body unread for HEAD, or when the client left before it began.
    entry = upload(client, os.urandom(3 * CHUNK))
    path = blob_path(app, entry["id"])
    environ = EnvironBuilder(
        f"/download/{entry['id']}", method=method, base_url="https://localhost"
    ).get_environ()
    statuses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body.close()
    assert statuses == ["200 OK"]
    assert open_descriptors_to(path) == []
    # Closed by the response, not left for the garbage collector to find.
    assert [str(w.message) for w in caught] == []

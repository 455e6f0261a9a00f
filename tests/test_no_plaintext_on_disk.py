"""No plaintext on disk: an upload big enough for Werkzeug to spool leaves no readable trace.

Werkzeug's form parser writes any file over 500 KB to a temporary file, in plaintext. The
upload path must never do that: here a marked file is uploaded both ways, every temporary
file the ``tempfile`` module makes is recorded (even unnamed ones), and every file left
under the test's folders is searched for the marker.
"""

from __future__ import annotations

import io
import os
import tempfile
import typing as t

import pytest
from werkzeug.formparser import parse_form_data
from werkzeug.test import EnvironBuilder

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask.testing import FlaskClient

BOUNDARY = "----secureserver-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
SIZE = 600 * 1024
TEMPFILE_FUNCTIONS = ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp")


def marked_file(marker: bytes) -> bytes:
    """Random bytes with the marker at both ends, mid-file and across a 64 KiB chunk edge."""
    data = bytearray(os.urandom(SIZE))
    for offset in (0, 64 * 1024 - 10, SIZE // 2, SIZE - len(marker)):
        data[offset : offset + len(marker)] = marker
    return bytes(data)


def multipart(data: bytes, filename: str = "secret.bin") -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def marker() -> bytes:
    return b"PLAINTEXT-MARKER-" + os.urandom(16).hex().encode()


@pytest.fixture
def temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Route ``tempfile`` into the test's folder and record every temporary file it makes."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    made: list[str] = []
    for name in TEMPFILE_FUNCTIONS:
        real = getattr(tempfile, name)

        def record(*args: t.Any, _real: t.Any = real, _name: str = name, **kwargs: t.Any) -> t.Any:
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, record)
    return made


def files_containing(root: Path, marker: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


def test_the_check_sees_werkzeug_spool(
    tmp_path: Path, temp_files: list[str], marker: bytes
) -> None:
    # What the upload path must not do: Werkzeug's parser, on the same body.
    data = marked_file(marker)
    environ = EnvironBuilder(
        "/upload", method="POST", data=multipart(data), content_type=MULTIPART
    ).get_environ()
    _, _, files = parse_form_data(environ)
    upload = files["file"]
    assert upload.read() == data
    upload.close()
    assert "TemporaryFile" in temp_files


@pytest.mark.parametrize("how", ["multipart", "put"])
def test_upload_leaves_no_plaintext(
    client: FlaskClient,
    tmp_path: Path,
    instance_path: Path,
    temp_files: list[str],
    marker: bytes,
    how: str,
) -> None:
    data = marked_file(marker)
    if how == "multipart":
        response = client.post("/upload", data=multipart(data), content_type=MULTIPART)
    else:
        response = client.put("/upload/secret.bin", data=data)
    assert response.status_code == 201
    assert temp_files == []
    blobs = list((instance_path / "storage").glob("*.age"))
    assert len(blobs) == 1
    assert blobs[0].stat().st_size > SIZE
    assert files_containing(tmp_path, marker) == []
    # The marker did go through: the server gives it back.
    assert marker in client.get(response.json["files"][0]["download_url"]).data


@pytest.mark.parametrize("how", ["multipart", "put"])
def test_aborted_upload_leaves_no_plaintext(
    client: FlaskClient,
    tmp_path: Path,
    instance_path: Path,
    temp_files: list[str],
    marker: bytes,
    how: str,
) -> None:
    data = marked_file(marker)
    body = multipart(data) if how == "multipart" else data
    response = client.open(
        "/upload" if how == "multipart" else "/upload/secret.bin",
        method="POST" if how == "multipart" else "PUT",
        environ_overrides={
            "wsgi.input": io.BytesIO(body[: SIZE - 100]),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": MULTIPART if how == "multipart" else "application/octet-stream",
        },
    )
    assert response.status_code == 400
    assert temp_files == []
    assert list((instance_path / "storage").iterdir()) == []
    assert files_containing(tmp_path, marker) == []

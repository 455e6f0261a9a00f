"""Nothing readable at rest: no file name, media type, hash or content in the instance folder."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import typing as t

import pytest

from secureserver.fieldcipher import FieldCipher
from secureserver.services import get_services

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient

    from .live_server import LiveServer

MiB = 1024 * 1024


def _everything_under(folder: Path) -> bytes:
    """Every byte of every file under ``folder``: database, WAL, blobs, temporaries."""
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def _forms(secret: str) -> list[bytes]:
    """The ways a string could sit in a file: UTF-8, UTF-16 (SQLite can use it), hex."""
    return [secret.encode(), secret.encode("utf-16-le"), secret.encode().hex().encode()]


def test_instance_folder_holds_no_name_type_hash_or_content(live_server: LiveServer) -> None:
    marker = "zebra-" + os.urandom(6).hex()
    name = f"Quarterly {marker} plan.pdf"
    media_type = f"application/x-{marker}"
    content = (f"CONTENT-{marker}-".encode()) * (MiB // 16)
    session = live_server.session()
    put = session.put(
        live_server.url(f"/upload/{name}"),
        data=content,
        headers={"Content-Type": media_type},
        timeout=60,
    )
    assert put.status_code == 201
    form = session.post(
        live_server.url("/upload"),
        files=[("file", (f"form-{name}", content, media_type))],
        timeout=60,
    )
    assert form.status_code == 201
    assert [f["name"] for f in form.json()["files"]] == [f"form-{name}"]

    on_disk = _everything_under(live_server.instance_path)
    secrets = [marker, media_type, hashlib.sha256(content).hexdigest()]
    for secret in secrets:
        for encoded in _forms(secret):
            assert encoded not in on_disk, f"{secret!r} found at rest"
    # The API still shows everything to clients.
    listed = session.get(live_server.url(f"/api/files?q={marker}"), timeout=10).json()
    assert {f["name"] for f in listed["files"]} == {name, f"form-{name}"}
    assert {f["content_type"] for f in listed["files"]} == {media_type}


def test_sealed_values_are_bound_to_their_row_and_column(app: Flask, client: FlaskClient) -> None:
    ids = [
        client.put(f"/upload/{name}", data=name.encode()).json["files"][0]["id"]
        for name in ("first.txt", "second.txt")
    ]
    database = os.path.join(app.instance_path, "secureserver.sqlite3")
    with sqlite3.connect(database) as db:
        (sealed_first,) = db.execute("SELECT name FROM files WHERE id = ?", (ids[0],)).fetchone()
        # Someone who can write the database copies the first name onto the second file.
        db.execute("UPDATE files SET name = ? WHERE id = ?", (sealed_first, ids[1]))
    response = client.get(f"/api/files/{ids[1]}")
    assert response.status_code == 500
    assert "first.txt" not in response.get_data(as_text=True)
    assert client.get(f"/api/files/{ids[0]}").json["name"] == "first.txt"


def test_metadata_key_comes_from_the_identity(app: Flask) -> None:
    cipher = get_services(app).vault.field_cipher()
    sealed = cipher.seal("x", row="r", column="name")
    # Another identity's key cannot open it.
    other = FieldCipher([os.urandom(32)])
    with pytest.raises(Exception, match="not loaded"):
        other.open(sealed, row="r", column="name")

"""CSRF: browser requests need a session-bound token, checked before any file is stored."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

BOUNDARY = "csrf-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
SAME_ORIGIN = {"Origin": "https://localhost", "Sec-Fetch-Site": "same-origin"}


def _field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _file(name: str, data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    return head.encode() + b"\r\n" + data + b"\r\n"


def _form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _count(client: FlaskClient) -> int:
    return int(client.get("/api/files").json["total"])


def _blobs(app: Flask) -> list[str]:
    return sorted(p.name for p in (Path(app.instance_path) / "storage").iterdir())


def test_page_offers_the_token_in_the_form_and_the_meta_tag(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    field = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert meta is not None
    assert field is not None
    assert meta.group(1) == field.group(1)
    # The token field precedes the file input, so it is the first part the browser sends.
    assert page.index('name="csrf_token"') < page.index('type="file"')


def test_upload_form_with_the_token_first_is_stored(client: FlaskClient) -> None:
    body = _form(_field("csrf_token", _token(client)), _file("a.txt", b"hello"))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=SAME_ORIGIN)
    assert response.status_code == 201
    assert _count(client) == 1


@pytest.mark.parametrize("where", ["missing", "after the file", "wrong"])
def test_upload_form_without_a_valid_leading_token_stores_nothing(
    app: Flask, client: FlaskClient, where: str
) -> None:
    token = _token(client)
    parts = {
        "missing": [_file("a.txt", b"hello")],
        "after the file": [_file("a.txt", b"hello"), _field("csrf_token", token)],
        "wrong": [_field("csrf_token", token[:-4] + "AAAA"), _file("a.txt", b"hello")],
    }[where]
    response = client.post("/upload", data=_form(*parts), content_type=MULTIPART)
    assert response.status_code == 403
    assert "CSRF" in response.json["error"]
    assert _count(client) == 0
    assert _blobs(app) == []


def test_token_from_another_session_is_refused(app: Flask, client: FlaskClient) -> None:
    foreign = _token(app.test_client())
    _token(client)  # this client has its own session
    response = client.put("/upload/x.txt", data=b"x", headers={"X-CSRFToken": foreign})
    assert response.status_code == 403
    assert _count(client) == 0


def test_header_token_allows_api_calls_from_the_page(client: FlaskClient) -> None:
    headers = {**SAME_ORIGIN, "X-CSRFToken": _token(client)}
    created = client.put("/upload/x.txt", data=b"x", headers=headers)
    assert created.status_code == 201
    file_id = created.json["files"][0]["id"]
    assert client.delete(f"/api/files/{file_id}", headers=SAME_ORIGIN).status_code == 403
    assert client.delete(f"/api/files/{file_id}", headers=headers).status_code == 204


def test_delete_button_needs_the_form_token(client: FlaskClient) -> None:
    token = _token(client)
    file_id = client.put("/upload/x.txt", data=b"x", headers={"X-CSRFToken": token}).json["files"][
        0
    ]["id"]
    refused = client.post(f"/delete/{file_id}", data={}, headers=SAME_ORIGIN)
    assert refused.status_code == 403
    assert _count(client) == 1
    accepted = client.post(f"/delete/{file_id}", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert accepted.status_code == 303
    assert _count(client) == 0


def test_non_browser_clients_need_no_token(app: Flask) -> None:
    # No cookie, no Origin, no Sec-Fetch-*: curl or a script, which no web page can forge.
    client = app.test_client(use_cookies=False)
    assert client.put("/upload/x.txt", data=b"x").status_code == 201
    body = _form(_file("a.txt", b"hello"))
    assert client.post("/upload", data=body, content_type=MULTIPART).status_code == 201

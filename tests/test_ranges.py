"""Byte ranges on downloads: resuming and seeking decrypt only the chunks they need."""

from __future__ import annotations

import os
import typing as t

import pytest

from secureserver.crypto import CHUNK_SIZE

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

    from .live_server import LiveServer

CONTENT = os.urandom(3 * CHUNK_SIZE + 1234)
SIZE = len(CONTENT)


@pytest.fixture
def file_id(client: FlaskClient) -> str:
    response = client.put("/upload/ranges.bin", data=CONTENT)
    assert response.status_code == 201
    return str(response.json["files"][0]["id"])


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=0-99", 0, 100),
        (f"bytes={CHUNK_SIZE - 10}-{CHUNK_SIZE + 9}", CHUNK_SIZE - 10, CHUNK_SIZE + 10),
        (f"bytes={CHUNK_SIZE}-{2 * CHUNK_SIZE - 1}", CHUNK_SIZE, 2 * CHUNK_SIZE),
        (f"bytes={CHUNK_SIZE + 5}-", CHUNK_SIZE + 5, SIZE),
        ("bytes=-500", SIZE - 500, SIZE),
        (f"bytes=100-{SIZE * 2}", 100, SIZE),
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE),
    ],
)
def test_single_range(
    client: FlaskClient, file_id: str, header: str, start: int, stop: int
) -> None:
    with client.get(f"/download/{file_id}", headers={"Range": header}) as response:
        assert response.status_code == 206
        assert response.data == CONTENT[start:stop]
        assert response.headers["Content-Length"] == str(stop - start)
        assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{SIZE}"
        assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}"])
def test_range_outside_the_file_is_416(client: FlaskClient, file_id: str, header: str) -> None:
    response = client.get(f"/download/{file_id}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{SIZE}"
    assert "error" in response.json


@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=0-1,5-6"},
        {"Range": "bytes=0-9", "If-Range": '"not-the-etag"'},
        {"Range": "bytes=0-9", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"Range": "pages=1-2"},
    ],
    ids=["multiple ranges", "stale etag", "stale date", "unknown unit"],
)
def test_other_ranges_get_the_whole_file(
    client: FlaskClient, file_id: str, headers: dict[str, str]
) -> None:
    with client.get(f"/download/{file_id}", headers=headers) as response:
        assert response.status_code == 200
        assert response.data == CONTENT


def test_if_range_with_the_current_etag_is_honoured(client: FlaskClient, file_id: str) -> None:
    etag = client.get(f"/api/files/{file_id}").json["sha256"]
    headers = {"Range": "bytes=10-19", "If-Range": f'"{etag}"'}
    with client.get(f"/download/{file_id}", headers=headers) as response:
        assert response.status_code == 206
        assert response.data == CONTENT[10:20]


def test_empty_file_has_no_range(client: FlaskClient) -> None:
    file_id = client.put("/upload/empty", data=b"").json["files"][0]["id"]
    assert client.get(f"/download/{file_id}", headers={"Range": "bytes=0-"}).status_code == 416
    with client.get(f"/download/{file_id}") as response:
        assert response.status_code == 200
        assert response.data == b""


def test_resume_over_tls(live_server: LiveServer) -> None:
    session = live_server.session()
    created = session.put(live_server.url("/upload/resume.bin"), data=CONTENT, timeout=30)
    url = live_server.url(created.json()["files"][0]["download_url"])
    # A client that got the first 70000 bytes asks for the rest, as curl -C - does.
    rest = session.get(url, headers={"Range": "bytes=70000-"}, timeout=30)
    assert rest.status_code == 206
    assert CONTENT[:70000] + rest.content == CONTENT

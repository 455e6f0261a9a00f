"""Hostile file names and ids over the wire: labels only, never paths, never markup, never headers.

Names arrive raw, in a PUT URL or a multipart part header, exactly as an attacker would send
them (a raw TLS socket, no client-side normalisation). Each stored name must be the cleaned
label, nothing may be written outside the storage folder, the download's response headers
must stay well-formed, and the page must show the name as text. Malformed ids must never
reach storage: they get a 404.
"""

from __future__ import annotations

import json
import os
import re
import typing as t
import unicodedata
from urllib.parse import unquote

import pytest

from .wire import assert_consistent
from .wire import exchange

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .live_server import LiveServer
    from .wire import Response

pytestmark = pytest.mark.e2e

CONTENT = b"hostile names, harmless content\n"
# RFC 9110 field-name ": " printable ASCII; anything else in a response header is an injection.
WELL_FORMED_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+: [\x20-\x7e]*")
DISPOSITION = re.compile(
    r"attachment; filename=\"([\x20-\x7e]*)\"(?:; filename\*=UTF-8''([A-Za-z0-9%._~-]+))?"
)


@pytest.fixture
def stored(live_server: LiveServer) -> Iterator[list[str]]:
    """Ids the test stores; deleted afterwards. Nothing outside storage/ may have changed."""
    ids: list[str] = []
    before = _files_outside_storage(live_server)
    yield ids
    session = live_server.session()
    for file_id in ids:
        session.delete(live_server.url(f"/api/files/{file_id}"), timeout=10)
    assert _files_outside_storage(live_server) == before
    assert_consistent(live_server)


def _files_outside_storage(server: LiveServer) -> set[Path]:
    """Everything the server's folders hold besides blobs and SQLite's own side files."""
    workdir = server.instance_path.parent
    storage = server.instance_path / "storage"
    return {
        path
        for path in workdir.rglob("*")
        if storage not in path.parents
        and path != storage
        and not path.name.endswith(("-wal", "-shm", "-journal"))
    }


def _short_id(value: object) -> str:
    return ascii(value)[:40]


def _request(target: bytes, head: bytes, body: bytes) -> bytes:
    return (
        b"%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n%s"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (target, head, len(body), body)
    )


def _put(server: LiveServer, name: bytes) -> Response:
    (response,) = exchange(server, _request(b"PUT /upload/" + name, b"", CONTENT)).responses
    return response


def _post(server: LiveServer, disposition: bytes) -> Response:
    body = b"--B\r\n%s\r\n\r\n%s\r\n--B--\r\n" % (disposition, CONTENT)
    head = b"Content-Type: multipart/form-data; boundary=B\r\n"
    (response,) = exchange(server, _request(b"POST /upload", head, body)).responses
    return response


def _check_stored(server: LiveServer, response: Response, ids: list[str]) -> str:
    """The file was stored; its download is intact and its headers are well-formed."""
    assert response.status == 201, response.body
    (record,) = json.loads(response.body)["files"]
    ids.append(record["id"])
    name: str = record["name"]
    assert name
    assert name not in (".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert len(name.encode("utf-8")) <= 255
    target = f"GET /download/{record['id']}".encode()
    (download,) = exchange(server, _request(target, b"", b"")).responses
    assert download.status == 200
    assert download.body == CONTENT
    for line in download.head.split(b"\r\n")[1:]:
        assert WELL_FORMED_HEADER.fullmatch(line.decode("latin-1")), line
    assert download.header("Set-Cookie") is None
    (disposition,) = download.all("Content-Disposition")
    match = DISPOSITION.fullmatch(disposition)
    assert match, disposition
    fallback, extended = match.groups()
    assert '"' not in fallback
    assert "\\" not in fallback
    assert (unquote(extended, errors="strict") if extended else fallback) == name
    return name


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        (b"..%2F..%2Fetc%2Fpasswd", "passwd"),
        (b"../../etc/passwd", "passwd"),
        (b"..%5C..%5Cwindows%5Cwin.ini", "win.ini"),
        (b"..\\..\\win.ini", "win.ini"),
        (b"%2e%2e%2f%2e%2e%2fidentity.txt", "identity.txt"),
        (b"%252e%252e%252fidentity.txt", "%2e%2e%2fidentity.txt"),
        (b"%2Fetc%2Fpasswd", "passwd"),
        (b"/etc/passwd", "passwd"),
        (b"C:%5CWindows%5Csystem.ini", "system.ini"),
        (b"a%00b.txt", "ab.txt"),
        (b"%00", "unnamed"),
        (b"..", "unnamed"),
        (b"%2e%2e", "unnamed"),
        (b"a%0d%0aSet-Cookie:%20evil=1.txt", "aSet-Cookie: evil=1.txt"),
        (b"a%0aContent-Length:%200.txt", "aContent-Length: 0.txt"),
        (b"a%1b%5b31mred%7f.txt", "a[31mred.txt"),
        (b"evil%e2%80%aetxt.exe", "eviltxt.exe"),
        (b"%ef%bb%bfbom%e2%80%8b.txt", "bom.txt"),
        (b"say%20%22hi%22%3B%20filename%3Devil.exe", 'say "hi"; filename=evil.exe'),
        (b"a" * 4000 + b".txt", "a" * 251 + ".txt"),
        (b"%C3%A9" * 600 + b".txt", "\u00e9" * 125 + ".txt"),
    ],
    ids=_short_id,
)
def test_put_name_is_stored_as_a_clean_label(
    live_server: LiveServer, stored: list[str], name: bytes, cleaned: str
) -> None:
    assert _check_stored(live_server, _put(live_server, name), stored) == cleaned


def test_put_name_that_is_not_utf8(live_server: LiveServer, stored: list[str]) -> None:
    response = _put(live_server, b"%ff%fe.txt")
    # Refusing the name, or storing it with the bytes replaced, are both fine.
    if response.status != 400:
        assert _check_stored(live_server, response, stored).endswith(".txt")


@pytest.mark.parametrize(
    "target", [b"/upload/\xff\xfe.txt", b"/upload/a\x00b", b"/upload/a b", b"/upload/a\x7fb"]
)
def test_raw_bytes_in_the_url_are_refused(
    live_server: LiveServer, stored: list[str], target: bytes
) -> None:
    (response,) = exchange(live_server, _request(b"PUT " + target, b"", CONTENT)).responses
    assert response.status == 400


def test_url_longer_than_the_request_line_limit(live_server: LiveServer, stored: list[str]) -> None:
    response = _put(live_server, b"a" * 8192)
    assert response.status == 414


@pytest.mark.parametrize(
    ("disposition", "cleaned"),
    [
        (b'filename="../../etc/passwd"', "passwd"),
        (b'filename="..\\..\\win.ini"', "win.ini"),
        (b'filename="C:\\Windows\\system.ini"', "system.ini"),
        (b'filename="/etc/shadow"', "shadow"),
        (b'filename="a\x00b.txt"', "ab.txt"),
        (b'filename="a\nb\rc.txt"', "abc.txt"),
        (b'filename="a\x1b[31m\x7f.txt"', "a[31m.txt"),
        (b"filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.txt", "aSet-Cookie: x=1.txt"),
        (b"filename*=UTF-8''..%2F..%2Fidentity.txt", "identity.txt"),
        (b'filename="\xff\xfeinvalid.txt"', "invalid.txt"),
        (b'filename="truncated\xc3.txt"', "truncated.txt"),
        (b"filename*=UTF-8''%ff%fe.txt", ".txt"),
        (b'filename="\xe2\x80\xaeexe.txt"', "exe.txt"),
        (b'filename="' + b"a" * 4096 + b'.txt"', "a" * 251 + ".txt"),
        (b'filename="' + "\u00e9".encode() * 2048 + b'.txt"', "\u00e9" * 125 + ".txt"),
    ],
    ids=_short_id,
)
def test_multipart_filename_is_stored_as_a_clean_label(
    live_server: LiveServer, stored: list[str], disposition: bytes, cleaned: str
) -> None:
    response = _post(live_server, b'Content-Disposition: form-data; name="file"; ' + disposition)
    assert _check_stored(live_server, response, stored) == cleaned


def test_markup_in_names_is_shown_as_text(live_server: LiveServer, stored: list[str]) -> None:
    marker = os.urandom(6).hex()
    name = f"<svg onload=alert(1)>\"'&{marker}<script>alert(2)<script>.html"
    disposition = 'form-data; name="file"; filename="{}"'.format(name.replace('"', '\\"'))
    response = _post(live_server, f"Content-Disposition: {disposition}".encode())
    assert _check_stored(live_server, response, stored) == name
    page = live_server.session().get(live_server.url("/"), params={"q": marker}, timeout=10)
    assert page.status_code == 200
    assert marker in page.text
    assert "<svg" not in page.text
    assert "<script>alert" not in page.text
    assert "&lt;svg onload=alert(1)&gt;" in page.text


def test_query_reflected_in_the_page_is_escaped(live_server: LiveServer) -> None:
    page = live_server.session().get(
        live_server.url("/"), params={"q": "<img src=x onerror=alert(1)>"}, timeout=10
    )
    assert page.status_code == 200
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


@pytest.fixture
def canary(live_server: LiveServer, stored: list[str]) -> str:
    response = _put(live_server, b"canary.txt")
    assert response.status == 201
    file_id: str = json.loads(response.body)["files"][0]["id"]
    stored.append(file_id)
    return file_id


def _malformed_ids(canary: str) -> list[str]:
    return [
        "..%2F..%2Fidentity.txt",
        "..%2Fsecret_key",
        "%2e%2e%2f%2e%2e%2fidentity.txt",
        "%252e%252e%252fidentity.txt",
        "../identity.txt",
        "abcdefghij/klmnopqrstu",
        "abcdefghij%2Fklmnopqrst",
        "%00" * 22,
        canary[:21] + "%00",
        canary + "%00",
        canary + "%0a",
        canary + ".age",
        canary + "/",
        canary[:21],
        canary[:21] + "=",
        canary[:21] + "%3D",
        "%EF%BC%A1" * 22,
        "A" * 22,
    ]


@pytest.mark.parametrize("method", ["GET /download/", "GET /api/files/", "DELETE /api/files/"])
def test_malformed_or_unknown_ids_are_404(
    live_server: LiveServer, canary: str, method: str
) -> None:
    secret = (live_server.instance_path / "identity.txt").read_bytes()
    for file_id in _malformed_ids(canary):
        target = (method + file_id).encode()
        (response,) = exchange(live_server, _request(target, b"", b"")).responses
        assert response.status == 404, file_id
        assert json.loads(response.body)["error"], file_id
        assert b"AGE-SECRET-KEY" not in response.body
        assert secret not in response.body
    # The file whose id was mangled is untouched.
    download = live_server.session().get(live_server.url(f"/download/{canary}"), timeout=10)
    assert download.content == CONTENT

"""Uploads: POST /upload (multipart) and PUT /upload/<name>.

What is stored comes back in the FILE objects; every refusal, whatever its cause, must leave
nothing behind: no row, no blob and no temporary file in the storage folder.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import typing as t
from datetime import datetime
from pathlib import Path

import pytest

from secureserver import create_app
from secureserver.services import get_services
from secureserver.storage import blobs

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

BOUNDARY = "----secureserver-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SIZES = [0, 1, 65536, 65537, 1024 * 1024 + 3]
FILE_KEYS = {"id", "name", "size", "sha256", "content_type", "uploaded_at", "download_url"}


def part(
    data: bytes = b"data",
    filename: str | None = "f.bin",
    *,
    name: str = "file",
    content_type: str | None = None,
) -> bytes:
    """One part of a multipart body (a field when ``filename`` is None)."""
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def stored(app: Flask) -> tuple[int, list[str]]:
    """The number of listed files and the names of everything in the storage folder."""
    storage = Path(app.instance_path) / "storage"
    return get_services(app).repository.count(), sorted(p.name for p in storage.iterdir())


def make_app(instance: Path, **config: t.Any) -> Flask:
    app = create_app(
        {"TESTING": True, "STORAGE_RESERVE_BYTES": 0, **config}, instance_path=instance
    )
    result = app.test_cli_runner().invoke(args=["keygen"])
    assert result.exit_code == 0, result.output
    return app


class Unreadable(io.RawIOBase):
    """A request body that fails the test's expectations if anyone reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        raise AssertionError("the request body was read")


def check_file(entry: dict[str, t.Any], data: bytes, name: str, content_type: str) -> None:
    assert set(entry) == FILE_KEYS
    assert entry["name"] == name
    assert entry["size"] == len(data)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["content_type"] == content_type
    assert entry["download_url"] == f"/download/{entry['id']}"
    assert datetime.fromisoformat(entry["uploaded_at"]).tzinfo is not None


@pytest.mark.parametrize("size", SIZES)
def test_multipart_one_file(app: Flask, client: FlaskClient, size: int) -> None:
    data = os.urandom(size)
    body = multipart(part(data, "a.bin", content_type="application/x-thing"))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 201
    (entry,) = response.json["files"]
    check_file(entry, data, "a.bin", "application/x-thing")
    assert stored(app) == (1, [f"{entry['id']}.age"])
    assert client.get(entry["download_url"]).data == data


def test_multipart_several_files(app: Flask, client: FlaskClient) -> None:
    datas = [os.urandom(size) for size in SIZES]
    body = multipart(
        part(b"a note", None, name="note"),
        *(part(data, f"f{i}.bin") for i, data in enumerate(datas)),
        part(b"ignored", "other.bin", name="other"),
    )
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 201
    entries = response.json["files"]
    assert [e["name"] for e in entries] == [f"f{i}.bin" for i in range(len(datas))]
    for entry, data in zip(entries, datas, strict=True):
        check_file(entry, data, entry["name"], "application/octet-stream")
        assert client.get(entry["download_url"]).data == data
    assert stored(app) == (len(datas), sorted(f"{e['id']}.age" for e in entries))


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("text/plain", "text/plain"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("IMAGE/PNG", "image/png"),
        ("not a type", "application/octet-stream"),
        ("a/b/c", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_content_type_kept_or_cleaned(client: FlaskClient, sent: str | None, kept: str) -> None:
    body = multipart(part(b"x", "x.txt", content_type=sent))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.json["files"][0]["content_type"] == kept
    headers = {} if sent is None else {"Content-Type": sent}
    response = client.put("/upload/y.txt", data=b"y", headers=headers)
    assert response.json["files"][0]["content_type"] == kept


@pytest.mark.parametrize(
    ("filename", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("r\u00e9sum\u00e9.pdf", "r\u00e9sum\u00e9.pdf"),
        ("e\u0301.txt", "\u00e9.txt"),
        ("\u202etxt.exe", "txt.exe"),
        ("..", "unnamed"),
    ],
)
def test_multipart_names_cleaned(client: FlaskClient, filename: str, cleaned: str) -> None:
    body = multipart(part(b"x", filename))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 201
    assert response.json["files"][0]["name"] == cleaned


@pytest.mark.parametrize("past_a_read", range(-2, 6))
def test_body_length_around_read_size(app: Flask, client: FlaskClient, past_a_read: int) -> None:
    # The body is read UPLOAD_READ_SIZE bytes at a time: wherever a read ends (here, around
    # the closing delimiter), the stored file must be exactly the one sent.
    read_size = app.config["UPLOAD_READ_SIZE"]
    data = os.urandom(read_size + past_a_read - len(multipart(part(b"", "f.bin"))))
    body = multipart(part(data, "f.bin"))
    assert len(body) == read_size + past_a_read
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 201
    check_file(response.json["files"][0], data, "f.bin", "application/octet-stream")


def test_browser_form_redirects_with_flash(app: Flask, client: FlaskClient) -> None:
    body = multipart(part(b"one", "one.txt"), part(b"two", "<i>two.txt"))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=BROWSER)
    assert response.status_code == 303
    assert response.location == "/"
    assert stored(app)[0] == 2
    page = client.get("/").get_data(as_text=True)
    assert "Uploaded one.txt, &lt;i&gt;two.txt." in page
    assert "Uploaded one.txt" not in client.get("/").get_data(as_text=True)


def test_browser_form_flash_fits_in_a_cookie(app: Flask, client: FlaskClient) -> None:
    # 100 files (the most one upload may hold) named by their hashes, as dumps often are.
    names = [hashlib.sha256(bytes([i])).hexdigest() + ".bin" for i in range(100)]
    body = multipart(*(part(b"x", name) for name in names))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=BROWSER)
    assert response.status_code == 303
    assert all(len(value) <= 4093 for value in response.headers.getlist("Set-Cookie"))
    assert f"Uploaded {names[0]}" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("size", SIZES)
def test_put_raw_body(app: Flask, client: FlaskClient, size: int) -> None:
    data = os.urandom(size)
    response = client.put("/upload/raw.bin", data=data, content_type="application/pdf")
    assert response.status_code == 201
    (entry,) = response.json["files"]
    check_file(entry, data, "raw.bin", "application/pdf")
    assert stored(app) == (1, [f"{entry['id']}.age"])
    assert client.get(entry["download_url"]).data == data


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("plain.txt", "plain.txt"),
        ("..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("dir/sub/file.txt", "file.txt"),
        ("..%5C..%5Cwin.ini", "win.ini"),
        ("x%00y.txt", "xy.txt"),
        ("a%0D%0Ab.txt", "ab.txt"),
        ("%2E%2E", "unnamed"),
        ("caf%C3%A9.txt", "caf\u00e9.txt"),
        ("e%CC%81.txt", "\u00e9.txt"),
        ("%E2%80%AEtxt.exe", "txt.exe"),
    ],
)
def test_put_names_cleaned(client: FlaskClient, path: str, cleaned: str) -> None:
    response = client.put(f"/upload/{path}", data=b"x")
    assert response.status_code == 201
    assert response.json["files"][0]["name"] == cleaned


@pytest.mark.parametrize(
    "body",
    [
        multipart(),
        multipart(part(b"x", "x.bin", name="other")),
        multipart(part(b"x", "")),
        multipart(part(b"x", ""), part(b"y", "")),
        multipart(part(b"a field, not a file", None)),
    ],
    ids=["no-parts", "other-field", "empty-filename", "only-empty-filenames", "file-as-field"],
)
def test_no_file_part(app: Flask, client: FlaskClient, body: bytes) -> None:
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 400
    assert response.json["error"]
    assert stored(app) == (0, [])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"junk that is not multipart",
        part(os.urandom(70000), "cut.bin"),
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n'.encode(),
        b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="\xff"\r\n\r\n',
        part(b"complete", "first.bin") + part(os.urandom(70000), "second.bin"),
    ],
    ids=[
        "empty",
        "junk",
        "no-closing-boundary",
        "no-disposition",
        "ends-in-headers",
        "not-utf8-headers",
        "second-file-unfinished",
    ],
)
def test_malformed_multipart(app: Flask, client: FlaskClient, body: bytes) -> None:
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 400
    assert response.json["error"]
    assert stored(app) == (0, [])


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "multipart/form-data",
        "multipart/mixed; boundary=abc",
        "multipart/form-data; boundary=" + "b" * 71,
    ],
)
def test_post_needs_multipart(app: Flask, client: FlaskClient, content_type: str) -> None:
    response = client.post("/upload", data=b"x", content_type=content_type, headers=JSON)
    assert response.status_code == 415
    assert response.json["error"]
    assert stored(app) == (0, [])


@pytest.fixture
def small_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path / "small", MAX_CONTENT_LENGTH=1000, MAX_FILES_PER_REQUEST=3)


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [("PUT", "/upload/big.bin", "application/octet-stream"), ("POST", "/upload", MULTIPART)],
)
def test_too_large_refused_before_reading(
    small_app: Flask, method: str, path: str, content_type: str
) -> None:
    response = small_app.test_client().open(
        path,
        method=method,
        headers=JSON,
        environ_overrides={
            "wsgi.input": Unreadable(),
            "CONTENT_LENGTH": "1001",
            "CONTENT_TYPE": content_type,
        },
    )
    assert response.status_code == 413
    assert "1000 bytes" in response.json["error"]
    assert stored(small_app) == (0, [])


def test_too_large_chunked_body(small_app: Flask) -> None:
    # A chunked body has no Content-Length: the limit is enforced while reading.
    response = small_app.test_client().put(
        "/upload/big.bin",
        headers=JSON,
        environ_overrides={
            "wsgi.input": io.BytesIO(b"x" * 5000),
            "wsgi.input_terminated": True,
            "HTTP_TRANSFER_ENCODING": "chunked",
        },
    )
    assert response.status_code == 413
    assert stored(small_app) == (0, [])


@pytest.mark.parametrize(("count", "status"), [(3, 201), (4, 413)])
def test_files_per_request(small_app: Flask, count: int, status: int) -> None:
    body = multipart(*(part(b"", f"{i}.bin") for i in range(count)))
    response = small_app.test_client().post(
        "/upload", data=body, content_type=MULTIPART, headers=JSON
    )
    assert response.status_code == status
    assert stored(small_app)[0] == (count if status == 201 else 0)
    assert len(stored(small_app)[1]) == stored(small_app)[0]


@pytest.mark.parametrize(
    ("config", "body"),
    [
        ({"MAX_FORM_PARTS": 2}, multipart(*(part(b"x", f"{i}") for i in range(3)))),
        ({"MAX_FORM_MEMORY_SIZE": 10}, multipart(part(b"x" * 11, None, name="note"))),
    ],
    ids=["too-many-parts", "field-too-large"],
)
def test_form_too_large(tmp_path: Path, config: dict[str, int], body: bytes) -> None:
    app = make_app(tmp_path / "limits", **config)
    response = app.test_client().post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 413
    assert stored(app) == (0, [])


def _complete_multipart() -> bytes:
    return multipart(part(b"first", "first.bin"), part(os.urandom(200_000), "second.bin"))


@pytest.mark.parametrize("terminated", [False, True], ids=["werkzeug-server", "gunicorn"])
@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/upload/cut.bin", os.urandom(200_000), "application/octet-stream"),
        ("/upload", _complete_multipart(), MULTIPART),
    ],
    ids=["put", "post"],
)
def test_body_shorter_than_content_length(
    app: Flask,
    client: FlaskClient,
    path: str,
    body: bytes,
    content_type: str,
    terminated: bool,
) -> None:
    environ: dict[str, t.Any] = {
        "wsgi.input": io.BytesIO(body[: len(body) - 1000]),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
    }
    if terminated:
        # Gunicorn terminates the stream itself: a cut body just ends early.
        environ["wsgi.input_terminated"] = True
    method = "PUT" if path.startswith("/upload/") else "POST"
    response = client.open(path, method=method, headers=JSON, environ_overrides=environ)
    assert response.status_code == 400
    assert "ended" in response.json["error"]
    assert stored(app) == (0, [])


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost"},
        {"Origin": "https://localhost:8443"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [("PUT", "/upload/x.bin", "application/octet-stream"), ("POST", "/upload", MULTIPART)],
)
def test_cross_site_refused(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    method: str,
    path: str,
    content_type: str,
) -> None:
    response = client.open(
        path,
        method=method,
        headers={**JSON, **headers},
        environ_overrides={
            "wsgi.input": Unreadable(),
            "CONTENT_LENGTH": "10",
            "CONTENT_TYPE": content_type,
        },
    )
    assert response.status_code == 403
    assert response.json["error"]
    assert stored(app) == (0, [])


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://localhost"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://localhost"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_same_origin_allowed(app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.put("/upload/ok.txt", data=b"ok", headers={**headers, "X-CSRFToken": token})
    assert response.status_code == 201
    assert stored(app)[0] == 1


def test_storage_reserve_gives_507(tmp_path: Path) -> None:
    app = make_app(tmp_path / "full", STORAGE_RESERVE_BYTES=2**62)
    client = app.test_client()
    response = client.put("/upload/a.bin", data=b"x" * 1000, headers=JSON)
    assert response.status_code == 507
    assert response.json["error"]
    body = multipart(part(b"x" * 1000, "b.bin"))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 507
    assert stored(app) == (0, [])


@pytest.mark.parametrize("failing_write", [1, 2, 3, 5])
def test_disk_full_mid_upload_gives_507(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    # Each file writes its header, then one write per 64 KiB chunk: 3 + 2 writes in all.
    real_write = os.write
    calls = 0

    def write(fd: int, data: t.Any) -> int:
        nonlocal calls
        calls += 1
        if calls == failing_write:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(blobs.os, "write", write)
    body = multipart(part(os.urandom(2 * 65536 + 5), "a.bin"), part(b"small", "b.bin"))
    response = client.post("/upload", data=body, content_type=MULTIPART, headers=JSON)
    assert response.status_code == 507
    assert response.json["error"]
    assert calls == failing_write
    assert stored(app) == (0, [])

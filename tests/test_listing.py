"""The file list: GET / (HTML), GET/DELETE /api/files[/<id>], POST /delete/<id>."""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import quote

import pytest

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

BOUNDARY = "----secureserver-test-boundary"


def upload(client: FlaskClient, name: str, data: bytes = b"data") -> dict[str, t.Any]:
    response = client.put(f"/upload/{quote(name, safe='')}", data=data)
    assert response.status_code == 201
    return t.cast(dict[str, t.Any], response.json["files"][0])


def upload_many(client: FlaskClient, count: int) -> None:
    parts = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{i}.txt"\r\n'
        f"\r\n{i}\r\n".encode()
        for i in range(count)
    )
    response = client.post(
        "/upload",
        data=parts + f"--{BOUNDARY}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 201


def storage_names(app: Flask) -> list[str]:
    return sorted(p.name for p in (Path(app.instance_path) / "storage").iterdir())


@pytest.fixture
def three(client: FlaskClient) -> list[dict[str, t.Any]]:
    """Three files uploaded one after the other: first, second, third."""
    return [upload(client, name) for name in ("first", "second", "third")]


def test_newest_first(client: FlaskClient, three: list[dict[str, t.Any]]) -> None:
    response = client.get("/api/files")
    assert response.status_code == 200
    assert response.json == {"files": three[::-1], "total": 3}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=1", ["third"]),
        ("limit=2&offset=1", ["second", "first"]),
        ("offset=2", ["first"]),
        ("offset=3", []),
        ("limit=1000&offset=0", ["third", "second", "first"]),
    ],
)
def test_limit_and_offset(
    client: FlaskClient, three: list[dict[str, t.Any]], query: str, names: list[str]
) -> None:
    response = client.get(f"/api/files?{query}")
    assert [f["name"] for f in response.json["files"]] == names
    assert response.json["total"] == 3


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=10001",
        "limit=",
        "limit=1.5",
        "limit=%C2%B2",
        "offset=-1",
        "offset=abc",
        "offset=",
        "offset=%D9%A1",
        "offset=99999999999999999999",
    ],
)
def test_bad_paging(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/files?{query}")
    assert response.status_code == 400
    assert response.json["error"]


@pytest.mark.parametrize("query", ["offset=abc", "offset=-1", "offset=99999999999999999999"])
def test_bad_paging_on_the_page(client: FlaskClient, query: str) -> None:
    response = client.get(f"/?{query}", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "Error 400" in response.get_data(as_text=True)


def test_get_one(client: FlaskClient, three: list[dict[str, t.Any]]) -> None:
    response = client.get(f"/api/files/{three[1]['id']}")
    assert response.status_code == 200
    assert response.json == three[1]


@pytest.mark.parametrize("file_id", ["A" * 22, "A" * 21, "A" * 23, "..", "%2e%2e"])
def test_get_unknown(client: FlaskClient, file_id: str) -> None:
    response = client.get(f"/api/files/{file_id}")
    assert response.status_code == 404
    assert response.json["error"]


def test_delete(app: Flask, client: FlaskClient, three: list[dict[str, t.Any]]) -> None:
    gone = three[1]
    response = client.delete(f"/api/files/{gone['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/api/files/{gone['id']}").status_code == 404
    assert client.get(f"/download/{gone['id']}").status_code == 404
    assert client.delete(f"/api/files/{gone['id']}").status_code == 404
    assert client.get("/api/files").json == {"files": [three[2], three[0]], "total": 2}
    assert storage_names(app) == sorted(f"{f['id']}.age" for f in (three[0], three[2]))


def test_delete_from_page(app: Flask, client: FlaskClient) -> None:
    entry = upload(client, "old report.pdf")
    response = client.post(f"/delete/{entry['id']}", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.location == "/"
    assert storage_names(app) == []
    page = client.get("/").get_data(as_text=True)
    assert "Deleted old report.pdf." in page
    assert "Deleted old report.pdf." not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/files/"), ("POST", "/delete/")])
def test_delete_unknown(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path + "A" * 22, method=method)
    assert response.status_code == 404
    assert response.json["error"]


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}]
)
@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/files/"), ("POST", "/delete/")])
def test_delete_cross_site_refused(
    app: Flask, client: FlaskClient, headers: dict[str, str], method: str, path: str
) -> None:
    entry = upload(client, "keep.txt")
    response = client.open(path + entry["id"], method=method, headers=headers)
    assert response.status_code == 403
    assert client.get(f"/api/files/{entry['id']}").status_code == 200
    assert storage_names(app) == [f"{entry['id']}.age"]


def test_index_lists_files(client: FlaskClient, three: list[dict[str, t.Any]]) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'action="/upload"' in page
    assert 'name="file" multiple' in page
    positions = [page.index(f">{name}</td>") for name in ("third", "second", "first")]
    assert positions == sorted(positions)
    for entry in three:
        assert f'href="/download/{entry["id"]}"' in page
        assert f'action="/delete/{entry["id"]}"' in page
    assert "No files yet" not in page


def test_index_empty(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No files yet" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "raw", "escaped"),
    [
        (
            "<img src=x onerror=alert(1)>.txt",
            "<img src=x",
            "&lt;img src=x onerror=alert(1)&gt;.txt",
        ),
        ('"><script>alert(1)<script>.txt', "<script>", "&#34;&gt;&lt;script&gt;alert(1)"),
    ],
)
def test_index_escapes_names(client: FlaskClient, name: str, raw: str, escaped: str) -> None:
    upload(client, name)
    page = client.get("/").get_data(as_text=True)
    assert raw not in page
    assert escaped in page


def test_index_pages(client: FlaskClient) -> None:
    upload_many(client, 100)
    upload(client, "newest.txt")
    first = client.get("/").get_data(as_text=True)
    assert first.count('class="name"') == 100
    assert "newest.txt" in first
    assert 'href="/?offset=100&amp;sort=uploaded_at&amp;order=desc">Next page' in first
    assert "Previous page" not in first
    second = client.get("/?offset=100").get_data(as_text=True)
    assert second.count('class="name"') == 1
    assert 'href="/?offset=0&amp;sort=uploaded_at&amp;order=desc">Previous page' in second
    assert "Next page" not in second


def test_index_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_method(client: FlaskClient) -> None:
    response = client.put("/api/files")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json["error"]


@pytest.fixture
def three_files(client: FlaskClient) -> list[str]:
    names = ["b-middle.txt", "Alpha.TXT", "ça-long.bin"]
    for name, data in zip(names, [b"22", b"1", b"333"], strict=True):
        upload(client, name, data)
    return names


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ça-long.bin", "Alpha.TXT", "b-middle.txt"]),
        ("?order=asc", ["b-middle.txt", "Alpha.TXT", "ça-long.bin"]),
        ("?sort=name", ["Alpha.TXT", "b-middle.txt", "ça-long.bin"]),
        ("?sort=name&order=desc", ["ça-long.bin", "b-middle.txt", "Alpha.TXT"]),
        ("?sort=size", ["ça-long.bin", "b-middle.txt", "Alpha.TXT"]),
        ("?sort=size&order=asc", ["Alpha.TXT", "b-middle.txt", "ça-long.bin"]),
        ("?q=TXT", ["Alpha.TXT", "b-middle.txt"]),
        ("?q=ÇA", ["ça-long.bin"]),
        ("?q=nothing", []),
        ("?sort=name&q=.t&limit=1&offset=1", ["b-middle.txt"]),
    ],
)
def test_api_sorts_filters_and_pages(
    client: FlaskClient, three_files: list[str], query: str, expected: list[str]
) -> None:
    body = client.get(f"/api/files{query}").json
    assert [f["name"] for f in body["files"]] == expected
    if "limit" not in query:
        assert body["total"] == len(expected)


@pytest.mark.parametrize(
    "query", ["?sort=id", "?sort=name&order=up", "?q=" + "x" * 256, "?sort=size;drop"]
)
def test_api_refuses_bad_listing_arguments(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/files{query}")
    assert response.status_code == 400
    assert response.json["error"]


def test_index_filter_and_sort_without_javascript(
    client: FlaskClient, three_files: list[str]
) -> None:
    page = client.get("/?sort=name&q=txt").get_data(as_text=True)
    assert page.index("Alpha.TXT") < page.index("b-middle.txt")
    assert "ça-long.bin" not in page
    assert 'aria-sort="ascending"' in page
    assert client.get("/?q=zzz").get_data(as_text=True).count("No file name contains") == 1

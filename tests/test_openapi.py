"""GET /openapi.json: a valid OpenAPI 3.1 document that matches the routes and the responses."""

from __future__ import annotations

import re
import typing as t

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from secureserver import create_app

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

SPEC_URI = "urn:secureserver:openapi"
BOUNDARY = "----secureserver-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
UNKNOWN = "A" * 22
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Pages and documents that are not part of the JSON API.
UNDOCUMENTED = {
    ("GET", "/"),
    ("POST", "/delete/{}"),
    ("GET", "/openapi.json"),
    ("GET", "/static/{}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/metrics"),
}


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, t.Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return t.cast(dict[str, t.Any], response.json)


@pytest.fixture
def file_id(client: FlaskClient) -> str:
    response = client.put("/upload/stored.txt", data=b"stored", content_type="text/plain")
    return t.cast(str, response.json["files"][0]["id"])


def _generic(path: str) -> str:
    """``/api/files/{id}`` and ``/api/files/<file_id:file_id>`` both become ``/api/files/{}``."""
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)


def operations(spec: dict[str, t.Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), _generic(path))
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, _generic(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_document_is_valid_openapi_31(spec: dict[str, t.Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_every_operation_is_a_route(app: Flask, spec: dict[str, t.Any]) -> None:
    assert operations(spec) - routes(app) == set()


def test_every_api_route_is_documented(app: Flask, spec: dict[str, t.Any]) -> None:
    assert routes(app) - operations(spec) == UNDOCUMENTED


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def response_validator(
    spec: dict[str, t.Any], path: str, method: str, status: int
) -> Draft202012Validator:
    """A validator for the JSON body the spec promises for this operation and status."""
    pointer = ["paths", path, method, "responses", str(status)]
    node = spec
    for token in pointer:
        node = node[token]
    if "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        node = spec
        for token in pointer:
            node = node[token]
    assert "application/json" in node["content"]
    pointer += ["content", "application/json", "schema"]
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    schema = {"$ref": f"{SPEC_URI}#/" + "/".join(_escape(p) for p in pointer)}
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _multipart(client: FlaskClient, file_id: str) -> TestResponse:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{BOUNDARY}--\r\n"
    )
    return client.post("/upload", data=body.encode(), content_type=MULTIPART)


CASES: list[tuple[str, str, int, t.Callable[[FlaskClient, str], TestResponse]]] = [
    ("/upload", "post", 201, _multipart),
    ("/upload", "post", 400, lambda c, _: c.post("/upload", data=b"", content_type=MULTIPART)),
    ("/upload", "post", 415, lambda c, _: c.post("/upload", data=b"x", content_type="text/plain")),
    (
        "/upload",
        "post",
        403,
        lambda c, i: c.post("/upload", headers={"Sec-Fetch-Site": "cross-site"}),
    ),
    ("/upload/{filename}", "put", 201, lambda c, _: c.put("/upload/b.bin", data=b"\x00\x01")),
    ("/api/files", "get", 200, lambda c, _: c.get("/api/files")),
    ("/api/files", "get", 200, lambda c, _: c.get("/api/files?limit=1&offset=5")),
    ("/api/files", "get", 400, lambda c, _: c.get("/api/files?limit=0")),
    ("/api/files/{id}", "get", 200, lambda c, i: c.get(f"/api/files/{i}")),
    ("/api/files/{id}", "get", 404, lambda c, _: c.get(f"/api/files/{UNKNOWN}")),
    ("/api/files/{id}", "delete", 404, lambda c, _: c.delete(f"/api/files/{UNKNOWN}")),
    ("/download/{id}", "get", 404, lambda c, _: c.get(f"/download/{UNKNOWN}")),
    ("/healthz", "get", 200, lambda c, _: c.get("/healthz")),
]


@pytest.mark.parametrize(
    ("path", "method", "status", "call"),
    CASES,
    ids=[f"{m}-{p}-{s}" for p, m, s, _ in CASES],
)
def test_responses_match_the_spec(
    client: FlaskClient,
    spec: dict[str, t.Any],
    file_id: str,
    path: str,
    method: str,
    status: int,
    call: t.Callable[[FlaskClient, str], TestResponse],
) -> None:
    response = call(client, file_id)
    assert response.status_code == status
    assert str(status) in spec["paths"][path][method]["responses"]
    errors = list(response_validator(spec, path, method, status).iter_errors(response.json))
    assert errors == []


def test_not_ready_health_matches_the_spec(instance_path: Path, spec: dict[str, t.Any]) -> None:
    app = create_app({"TESTING": True, "STORAGE_RESERVE_BYTES": 2**62}, instance_path=instance_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert list(response_validator(spec, "/healthz", "get", 503).iter_errors(response.json)) == []


def test_validator_rejects_a_bad_file(spec: dict[str, t.Any]) -> None:
    # The checks above are only worth something if a wrong body fails them.
    validator = response_validator(spec, "/api/files/{id}", "get", 200)
    good = {
        "id": UNKNOWN,
        "name": "a",
        "size": 0,
        "sha256": "0" * 64,
        "content_type": "text/plain",
        "uploaded_at": "2024-01-01T00:00:00Z",
        "download_url": f"/download/{UNKNOWN}",
    }
    assert list(validator.iter_errors(good)) == []
    for bad in (
        {**good, "extra": 1},
        {**good, "size": -1},
        {**good, "sha256": "X" * 64},
        {**good, "uploaded_at": "yesterday"},
        {k: v for k, v in good.items() if k != "id"},
    ):
        assert list(validator.iter_errors(bad)) != []

"""Structured events with request ids, and Prometheus metrics (off by default)."""

from __future__ import annotations

import json
import logging
import re
import typing as t

import pytest

from secureserver import create_app
from secureserver.events import JsonLineFormatter

from .conftest import TEST_CONFIG

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient

    from .live_server import LiveServer


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> t.Callable[[], list[dict[str, t.Any]]]:
    """The events logged so far, each as the JSON object the journal would get."""
    caplog.set_level(logging.INFO, logger="secureserver.events")
    logger = logging.getLogger("secureserver.events")
    logger.addHandler(caplog.handler)
    formatter = JsonLineFormatter()
    yield lambda: [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "secureserver.events"
    ]
    logger.removeHandler(caplog.handler)


def test_actions_are_logged_as_json_with_request_ids(
    app: Flask, client: FlaskClient, events: t.Callable[[], list[dict[str, t.Any]]]
) -> None:
    created = client.put("/upload/Secret%20Plan.txt", data=b"attack at dawn")
    file_id = created.json["files"][0]["id"]
    request_id = created.headers["X-Request-ID"]
    with client.get(f"/download/{file_id}") as response:
        assert response.data == b"attack at dawn"
    client.delete(f"/api/files/{file_id}")

    logged = events()
    assert [e["event"] for e in logged] == ["upload", "download", "delete"]
    assert logged[0]["request_id"] == request_id
    assert logged[0]["file_id"] == file_id
    assert logged[0]["size"] == 14
    assert logged[0]["path"] == "/upload/<any_name:filename>"
    text = json.dumps(logged)
    assert "Secret" not in text
    assert "attack at dawn" not in text


def test_a_proxy_request_id_is_kept_if_it_looks_like_one(client: FlaskClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123-def-456"})
    assert kept.headers["X-Request-ID"] == "abc-123-def-456"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{16}", replaced.headers["X-Request-ID"])


def test_integrity_failures_and_wrong_passwords_are_logged(
    app: Flask, client: FlaskClient, events: t.Callable[[], list[dict[str, t.Any]]]
) -> None:
    from pathlib import Path

    file_id = client.put("/upload/a.bin", data=b"x" * 1000).json["files"][0]["id"]
    blob = Path(app.instance_path) / "storage" / f"{file_id}.age"
    blob.write_bytes(blob.read_bytes()[:-1])
    assert client.get(f"/download/{file_id}").status_code == 500
    runner = app.test_cli_runner()
    assert runner.invoke(args=["set-password", "--stdin"], input="long password\n").exit_code == 0
    headers = {"Authorization": "Bearer nope"}
    assert client.get("/api/files", headers=headers).status_code == 401
    kinds = {e["event"]: e for e in events()}
    assert kinds["integrity_failure"]["level"] == "error"
    assert kinds["auth_failure"]["level"] == "warning"
    assert "nope" not in json.dumps(kinds["auth_failure"])


def test_metrics_are_off_by_default(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_count_transfers_and_storage(tmp_path: Path) -> None:
    app = create_app({**TEST_CONFIG, "METRICS": True}, instance_path=tmp_path)
    assert app.test_cli_runner().invoke(args=["keygen"]).exit_code == 0
    client = app.test_client()

    def value(text: str, name: str) -> float:
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        assert match is not None, name
        return float(match.group(1))

    before = client.get("/metrics").get_data(as_text=True)
    file_id = client.put("/upload/m.bin", data=b"m" * 5000).json["files"][0]["id"]
    with client.get(f"/download/{file_id}") as response:
        assert len(response.data) == 5000
    client.get("/api/files/" + "A" * 22)
    after = client.get("/metrics")
    assert after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    for name, growth in [
        ("secureserver_uploads_total", 1),
        ("secureserver_bytes_in_total", 5000),
        ("secureserver_downloads_total", 1),
        ("secureserver_bytes_out_total", 5000),
    ]:
        assert value(text, name) - value(before, name) == growth
    assert value(text, "secureserver_stored_files") == 1
    assert value(text, "secureserver_stored_bytes") == 5000
    assert 'secureserver_errors_total{status="404"}' in text
    assert "secureserver_request_seconds_bucket" in text


def test_metrics_need_the_access_password(tmp_path: Path) -> None:
    app = create_app({**TEST_CONFIG, "METRICS": True}, instance_path=tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keygen"]).exit_code == 0
    assert runner.invoke(args=["set-password", "--stdin"], input="scrape password\n").exit_code == 0
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer scrape password"}).status_code
        == 200
    )


def test_metrics_add_up_every_gunicorn_worker(
    live_server_factory: t.Callable[..., LiveServer],
) -> None:
    server = live_server_factory(env={"SECURESERVER_METRICS": "true"})
    session = server.session()
    for i in range(8):
        # New connections, so both workers get some of the uploads.
        session.close()
        assert session.put(server.url(f"/upload/w{i}"), data=b"w", timeout=10).status_code == 201
    text = session.get(server.url("/metrics"), timeout=10).text
    match = re.search(r"^secureserver_uploads_total ([0-9.]+)$", text, re.MULTILINE)
    assert match is not None
    assert float(match.group(1)) == 8

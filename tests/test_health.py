"""GET /healthz: 200 only when files can be stored and read now, else 503 saying why."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from secureserver import create_app

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

IDENTITY_PROBLEM = "the encryption identity is not available"


def health_of(instance: Path, **config: t.Any) -> tuple[int, dict[str, t.Any]]:
    """Ask a new app on ``instance`` (so nothing is cached from an earlier check)."""
    app = create_app(
        {"TESTING": True, "STORAGE_RESERVE_BYTES": 0, **config}, instance_path=instance
    )
    response = app.test_client().get("/healthz")
    return response.status_code, response.json


def test_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_no_identity(instance_path: Path) -> None:
    status, body = health_of(instance_path)
    assert status == 503
    assert body == {"status": "unavailable", "problems": [IDENTITY_PROBLEM]}


def test_identity_removed(app: Flask, instance_path: Path) -> None:
    (instance_path / "identity.txt").unlink()
    status, body = health_of(instance_path)
    assert status == 503
    assert body["problems"] == [IDENTITY_PROBLEM]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_identity_readable_by_others(app: Flask, instance_path: Path, mode: int) -> None:
    (instance_path / "identity.txt").chmod(mode)
    status, body = health_of(instance_path)
    assert status == 503
    assert body["problems"] == [IDENTITY_PROBLEM]


@pytest.mark.parametrize(
    "content",
    [b"", b"# created: never\n", b"AGE-SECRET-KEY-1NOTAKEY\n", b"\xff\xfe"],
    ids=["empty", "comments-only", "malformed", "not-utf8"],
)
def test_identity_unusable(app: Flask, instance_path: Path, content: bytes) -> None:
    (instance_path / "identity.txt").write_bytes(content)
    status, body = health_of(instance_path)
    assert status == 503
    assert body["problems"] == [IDENTITY_PROBLEM]


def test_identity_restored(app: Flask, instance_path: Path) -> None:
    identity = instance_path / "identity.txt"
    identity.chmod(0o644)
    assert health_of(instance_path)[0] == 503
    identity.chmod(0o600)
    assert health_of(instance_path) == (200, {"status": "ok"})


def test_storage_below_reserve(app: Flask, instance_path: Path) -> None:
    status, body = health_of(instance_path, STORAGE_RESERVE_BYTES=2**62)
    assert status == 503
    assert body["status"] == "unavailable"
    (problem,) = body["problems"]
    assert "not enough storage space" in problem


def test_not_ready_for_a_browser_is_still_json(instance_path: Path) -> None:
    app = create_app({"TESTING": True}, instance_path=instance_path)
    response = app.test_client().get("/healthz", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.is_json

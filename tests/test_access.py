"""The optional access password: CLI, login page, Basic and bearer, rate limit."""

from __future__ import annotations

import base64
import re
import stat
import typing as t
from pathlib import Path

import pytest

from secureserver import create_app

from .conftest import TEST_CONFIG
from .live_server import prepare_instance
from .live_server import start_server

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"
BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def _set_password(app: Flask, password: str = PASSWORD) -> t.Any:
    return app.test_cli_runner().invoke(args=["set-password", "--stdin"], input=password + "\n")


@pytest.fixture
def locked(app: Flask) -> Flask:
    result = _set_password(app)
    assert result.exit_code == 0, result.output
    return app


def _basic(password: str, user: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _login(client: FlaskClient, password: str = PASSWORD) -> t.Any:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login?next=/api/files", data={"password": password, "csrf_token": token})


def test_set_password_stores_an_scrypt_hash_owner_only(locked: Flask) -> None:
    path = Path(locked.instance_path) / "access_password"
    text = path.read_text()
    assert text.startswith("scrypt$15$8$1$")
    assert PASSWORD not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_short_passwords_are_refused(app: Flask) -> None:
    result = _set_password(app, "short")
    assert result.exit_code != 0
    assert "at least 8" in result.output
    assert app.test_client().get("/api/files").status_code == 200


def test_without_a_password_nothing_changes(client: FlaskClient) -> None:
    assert client.get("/api/files").status_code == 200
    assert client.get("/login").status_code == 302


def test_api_needs_basic_or_bearer(locked: Flask) -> None:
    client = locked.test_client()
    refused = client.get("/api/files")
    assert refused.status_code == 401
    assert refused.json["error"]
    assert refused.headers["WWW-Authenticate"].startswith("Basic ")
    # A browser is not offered Basic: it would pop up its own dialog over the login page.
    from_page = client.get("/api/files", headers={"Sec-Fetch-Site": "same-origin"})
    assert from_page.headers["WWW-Authenticate"].startswith("Bearer ")
    assert client.get("/api/files", headers=_basic(PASSWORD)).status_code == 200
    assert client.get("/api/files", headers=_basic(PASSWORD, user="anyone")).status_code == 200
    bearer = {"Authorization": f"Bearer {PASSWORD}"}
    assert client.get("/api/files", headers=bearer).status_code == 200
    assert client.get("/api/files", headers=_basic("wrong password")).status_code == 401
    assert client.get("/api/files", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_upload_with_the_password_like_curl(locked: Flask) -> None:
    client = locked.test_client(use_cookies=False)
    assert client.put("/upload/a.txt", data=b"a").status_code == 401
    created = client.put("/upload/a.txt", data=b"a", headers=_basic(PASSWORD))
    assert created.status_code == 201


def test_health_and_static_stay_public(locked: Flask) -> None:
    client = locked.test_client()
    assert client.get("/healthz").status_code == 200
    with client.get("/static/style.css") as response:
        assert response.status_code == 200


def test_browser_logs_in_once(locked: Flask) -> None:
    client = locked.test_client()
    redirect = client.get("/", headers=BROWSER)
    assert redirect.status_code == 302
    assert redirect.location.startswith("/login?next=")
    wrong = _login(client, "not the password")
    assert wrong.status_code == 401
    assert "Wrong password" in wrong.get_data(as_text=True)
    right = _login(client)
    assert right.status_code == 303
    assert right.location == "/api/files"
    assert client.get("/api/files").status_code == 200
    assert client.get("/", headers=BROWSER).status_code == 200


def test_logout_and_password_change_end_the_session(locked: Flask) -> None:
    client = locked.test_client()
    _login(client)
    assert client.get("/api/files").status_code == 200
    page = client.get("/", headers=BROWSER).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/files").status_code == 401

    _login(client)
    assert client.get("/api/files").status_code == 200
    assert _set_password(locked, "another long password").exit_code == 0
    assert client.get("/api/files").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(locked: Flask, target: str) -> None:
    client = locked.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        f"/login?next={target}", data={"password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.location == "/"


def test_wrong_passwords_are_rate_limited_per_client(locked: Flask) -> None:
    client = locked.test_client(use_cookies=False)
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(10):
        response = client.get("/api/files", headers=_basic("guess"), environ_base=attacker)
        assert response.status_code == 401
    blocked = client.get("/api/files", headers=_basic(PASSWORD), environ_base=attacker)
    assert blocked.status_code == 429
    assert blocked.json["error"]
    # Someone else, from another address, is not affected.
    other = {"REMOTE_ADDR": "198.51.100.2"}
    assert client.get("/api/files", headers=_basic(PASSWORD), environ_base=other).status_code == 200


def test_remove_password(locked: Flask) -> None:
    result = locked.test_cli_runner().invoke(args=["set-password", "--remove"])
    assert result.exit_code == 0
    assert locked.test_client().get("/api/files").status_code == 200


def test_curl_style_put_with_password_over_tls(tmp_path: Path) -> None:
    instance, certs = prepare_instance(tmp_path)
    app = create_app(TEST_CONFIG, instance_path=instance)
    assert _set_password(app).exit_code == 0
    server = start_server(instance, certs, tmp_path / "gunicorn.log")
    try:
        session = server.session()
        url = server.url("/upload/secret.txt")
        assert session.put(url, data=b"hello", timeout=10).status_code == 401
        created = session.put(url, data=b"hello", auth=("", PASSWORD), timeout=10)
        assert created.status_code == 201
        download = server.url(created.json()["files"][0]["download_url"])
        assert session.get(download, auth=("", PASSWORD), timeout=10).content == b"hello"
    finally:
        server.stop()

"""Keys stay secret and the server stays strict about where they come from."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import typing as t

import pytest
from flask import request

from secureserver import create_app
from secureserver.services import get_services

from .conftest import TEST_CONFIG
from .live_server import PROJECT_ROOT
from .live_server import free_port
from .live_server import prepare_instance

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask

    from .live_server import LiveServer


def test_identity_from_systemd_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = create_app(TEST_CONFIG, instance_path=tmp_path / "source")
    assert source.test_cli_runner().invoke(args=["keygen"]).exit_code == 0
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "identity").write_bytes((tmp_path / "source" / "identity.txt").read_bytes())
    (credentials / "identity").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    app = create_app(TEST_CONFIG, instance_path=tmp_path / "served")
    vault = get_services(app).vault
    assert vault.identity_path == credentials / "identity"
    assert vault.identities()[0].recipient == get_services(source).vault.identities()[0].recipient
    assert not (tmp_path / "served" / "identity.txt").exists()


def test_credentials_readable_by_others_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "identity").write_text("AGE-SECRET-KEY-1\n")
    (credentials / "identity").chmod(0o644)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    app = create_app(TEST_CONFIG, instance_path=tmp_path / "served")
    assert not get_services(app).vault.is_ready()
    assert app.test_client().get("/healthz").status_code == 503


def test_gunicorn_refuses_debug_mode(tmp_path: Path) -> None:
    instance, certs = prepare_instance(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "FLASK_DEBUG": "1",
            "BIND": f"127.0.0.1:{free_port()}",
            "SECURESERVER_INSTANCE_PATH": str(instance),
            "SECURESERVER_CERTFILE": str(certs / "cert.pem"),
            "SECURESERVER_KEYFILE": str(certs / "key.pem"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "debug mode is on" in result.stderr


def test_no_key_in_logs_or_error_pages(live_server: LiveServer) -> None:
    secret = (live_server.instance_path / "identity.txt").read_text().split()[-1]
    assert secret.startswith("AGE-SECRET-KEY-1")
    session = live_server.session()
    created = session.put(live_server.url("/upload/k.bin"), data=os.urandom(70000), timeout=10)
    file_id = created.json()["files"][0]["id"]
    blob = live_server.instance_path / "storage" / f"{file_id}.age"
    data = bytearray(blob.read_bytes())
    data[30] ^= 0x01  # inside the stanza: the file key no longer unwraps
    blob.write_bytes(bytes(data))
    failed = session.get(live_server.url(f"/download/{file_id}"), timeout=10)
    assert failed.status_code == 500
    for text in (failed.text, live_server.log()):
        assert secret not in text
        assert "AGE-SECRET-KEY" not in text
        assert base64.b64encode(secret.encode()).decode() not in text


@pytest.mark.parametrize(("proxies", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_forwarded_for_is_believed_only_for_declared_proxies(
    tmp_path: Path, proxies: int, expected: str
) -> None:
    app: Flask = create_app({**TEST_CONFIG, "PROXY_COUNT": proxies}, instance_path=tmp_path)

    @app.get("/_address")
    def _address() -> str:
        return request.remote_addr or ""

    response = app.test_client().get(
        "/_address",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.get_data(as_text=True) == expected

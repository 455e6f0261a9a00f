"""How the server is started: the identity checks, the TLS policy, the gunicorn settings."""

from __future__ import annotations

import os
import runpy
import shutil
import socket
import ssl
import subprocess
import sys
import typing as t
from unittest import mock

import pytest

from secureserver.tls import INTERMEDIATE_CIPHERS
from secureserver.tls import harden_server_context

from .live_server import PROJECT_ROOT
from .live_server import free_port
from .live_server import prepare_instance

if t.TYPE_CHECKING:
    from pathlib import Path

    from .live_server import LiveServer

START_TIMEOUT = 60


def _start_and_wait(instance: Path, certs: Path) -> subprocess.CompletedProcess[str]:
    """Run gunicorn as production does, expecting it to refuse to start."""
    environment = {
        **os.environ,
        "BIND": f"127.0.0.1:{free_port()}",
        "SECURESERVER_INSTANCE_PATH": str(instance),
        "SECURESERVER_CERTFILE": str(certs / "cert.pem"),
        "SECURESERVER_KEYFILE": str(certs / "key.pem"),
    }
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )


def test_refuses_to_start_without_an_identity(tmp_path: Path) -> None:
    instance, certs = prepare_instance(tmp_path)
    (instance / "identity.txt").unlink()
    result = _start_and_wait(instance, certs)
    assert result.returncode != 0
    assert "secureserver cannot start" in result.stderr
    assert "keygen" in result.stderr


def test_refuses_to_start_with_an_identity_others_can_read(tmp_path: Path) -> None:
    instance, certs = prepare_instance(tmp_path)
    (instance / "identity.txt").chmod(0o644)
    result = _start_and_wait(instance, certs)
    assert result.returncode != 0
    assert "chmod 600" in result.stderr
    assert "AGE-SECRET-KEY" not in result.stderr


def _gunicorn_settings() -> dict[str, t.Any]:
    # The config sets environment variables for gunicorn; keep them out of this process.
    with mock.patch.dict(os.environ):
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    return settings


def test_ssl_context_hook_applies_the_tls_policy() -> None:
    settings = _gunicorn_settings()
    context = settings["ssl_context"](None, lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION
    tls12_suites = [c for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert tls12_suites
    for suite in tls12_suites:
        assert suite["aead"], suite["name"]
        assert suite["kea"] == "kx-ecdhe", suite["name"]
    assert settings["ciphers"] == INTERMEDIATE_CIPHERS


def test_harden_refuses_old_protocols() -> None:
    context = harden_server_context(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_gunicorn_trusts_no_forwarded_headers_and_binds_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("BIND", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    settings = _gunicorn_settings()
    assert settings["forwarded_allow_ips"] == ""
    assert settings["bind"] == ["127.0.0.1:8443"]
    assert settings["worker_class"] == "gthread"
    assert settings["preload_app"] is True


def test_plain_http_on_the_tls_port_gets_no_answer(live_server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = b""
        try:
            while chunk := raw.recv(4096):
                reply += chunk
        except ConnectionResetError:
            pass
    # Whatever comes back, it is not an HTTP response served in clear text.
    assert not reply.startswith(b"HTTP/")
    assert b"ok" not in reply

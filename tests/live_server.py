"""A real secureserver for end-to-end tests: gunicorn, TLS, its own instance and certificate.

It is started exactly as production starts it (``gunicorn -c gunicorn.conf.py``), on a free
loopback port, and stopped by the PID this module started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import requests

from secureserver import create_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    """Ask the kernel for a loopback port nobody uses right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    """A running gunicorn serving secureserver over HTTPS on 127.0.0.1."""

    port: int
    instance_path: Path
    ca_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def session(self) -> requests.Session:
        """A client that trusts exactly this server's CA, whatever the environment says.

        ``trust_env`` is off: otherwise REQUESTS_CA_BUNDLE would replace ``verify``, and a
        proxy setting could send loopback traffic elsewhere.
        """
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.ca_file)
        return session

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_for_log(self, text: str, after: int, timeout: float = 20.0) -> str:
        """Wait until ``text`` appears in the log past offset ``after``; return that part.

        The access log line of a request is written once the server has finished with it,
        so this is how a test knows that an aborted request has been cleaned up.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tail = self.log()[after:]
            if text in tail:
                return tail
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear in the server log within {timeout} s")

    def stop(self) -> None:
        """Stop gunicorn gracefully, by its PID; kill it if it does not go in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def prepare_instance(workdir: Path) -> tuple[Path, Path]:
    """Create an instance folder with an identity, and a certificate; return both paths."""
    instance, certs = workdir / "instance", workdir / "certs"
    runner = create_app(instance_path=instance).test_cli_runner()
    for args in (["keygen"], ["gen-cert", "--out-dir", str(certs)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return instance, certs


def start_server(
    instance: Path, certs: Path, log_file: Path, env: t.Mapping[str, str] | None = None
) -> LiveServer:
    """Start gunicorn on a free port and wait until ``/healthz`` answers 200.

    :raises RuntimeError: with the server's log when it exits or does not become ready.
    """
    port = free_port()
    environment = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "SECURESERVER_INSTANCE_PATH": str(instance),
        "SECURESERVER_CERTFILE": str(certs / "cert.pem"),
        "SECURESERVER_KEYFILE": str(certs / "key.pem"),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        **(env or {}),
    }
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(port, instance, certs / "ca.pem", log_file, process)
    _wait_until_ready(server)
    return server


def _wait_until_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    session = server.session()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            if session.get(server.url("/healthz"), timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not become ready:\n{server.log()}")

"""secureserver itself, started the way production starts it: ``gunicorn -c gunicorn.conf.py``.

Only the things a deployment chooses differ: a free loopback port, a throwaway instance
folder with a fresh identity, and a fresh self-signed certificate. Worker settings are the
production defaults, so variables that would change them are dropped from the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..server import ServerSpec
from ..server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 60
# Inherited settings that would make the benchmark measure something other than the defaults.
_OVERRIDES = ("BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_CMD_ARGS")


def _tool(name: str) -> list[str]:
    # The console script of the running virtualenv, as `make run` uses it.
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def _environment(instance: Path, certs: Path, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _OVERRIDES and not key.startswith("SECURESERVER_")
    }
    env.update(
        BIND=f"127.0.0.1:{port}",
        SECURESERVER_INSTANCE_PATH=str(instance),
        SECURESERVER_CERTFILE=str(certs / "cert.pem"),
        SECURESERVER_KEYFILE=str(certs / "key.pem"),
    )
    return env


def _flask(args: list[str], env: dict[str, str]) -> None:
    argv = [*_tool("flask"), "--app", "secureserver", *args]
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=CLI_TIMEOUT
    )


def prepare(workdir: Path) -> ServerSpec:
    """Create an identity and a certificate under ``workdir``; describe how to serve.

    :raises subprocess.CalledProcessError: if ``keygen`` or ``gen-cert`` fails.
    """
    instance, certs = workdir / "instance", workdir / "certs"
    instance.mkdir(parents=True)
    port = free_port()
    env = _environment(instance, certs, port)
    _flask(["keygen"], env)
    _flask(["gen-cert", "--out-dir", str(certs)], env)
    return ServerSpec(
        name="secureserver",
        argv=[*_tool("gunicorn"), "-c", str(PROJECT_ROOT / "gunicorn.conf.py")],
        env=env,
        cwd=PROJECT_ROOT,
        port=port,
        health_path="/healthz",
        cafile=certs / "cert.pem",
        log_path=workdir / "server.log",
    )


@dataclass(frozen=True)
class Uploaded:
    """What the server says it stored."""

    file_id: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Api:
    """secureserver's transfer endpoints under ``base_url``."""

    base_url: str
    form_field: str = "file"

    def put_url(self, name: str) -> str:
        """``PUT`` the raw body as a file called ``name``."""
        return f"{self.base_url}/upload/{name}"

    def form_url(self) -> str:
        """``POST`` a ``multipart/form-data`` body with files in :attr:`form_field`."""
        return f"{self.base_url}/upload"

    def download_url(self, file_id: str) -> str:
        """``GET`` the plaintext of a stored file."""
        return f"{self.base_url}/download/{file_id}"

    def delete_url(self, file_id: str) -> str:
        """``DELETE`` a stored file."""
        return f"{self.base_url}/api/files/{file_id}"

    def uploaded(self, body: bytes) -> Uploaded:
        """Read the one stored file from an upload's JSON response.

        :raises ValueError: if the response does not describe exactly one file.
        """
        files = json.loads(body)["files"]
        if len(files) != 1:
            raise ValueError(f"expected one stored file, got {len(files)}")
        return Uploaded(files[0]["id"], files[0]["size"], files[0]["sha256"])

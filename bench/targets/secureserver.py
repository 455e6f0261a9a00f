"""secureserver itself, started the way production starts it: ``gunicorn -c gunicorn.conf.py``.

Only the things a deployment chooses differ: a free loopback port, a throwaway instance
folder with a fresh identity, and the benchmark's certificate. Worker settings are the
production defaults, so variables that would change them are dropped from the environment,
unless a variant sets them on purpose (``--variant``), or runs another checkout of the code
(``--baseline``) to measure a change before and after in the same run.
"""

from __future__ import annotations

import json
import os
import sys
import typing as t
from pathlib import Path

from secureserver import tls
from secureserver.crypto import X25519Identity

from ..curl import Transfer
from ..curl import run_clients
from ..payload import sha256_of
from ..server import ServerSpec
from ..server import free_port
from . import PUT
from . import StoredWrong
from . import Target

if t.TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IDENTITY_FILE = "identity.txt"
# Inherited settings that would make the benchmark measure something other than the defaults.
_OVERRIDES = ("BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_CMD_ARGS", "PYTHONPATH")


def tool(name: str) -> list[str]:
    """The console script ``name`` of the running virtualenv, as ``make run`` uses it."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def make_certificate(directory: Path) -> None:
    """Write ``cert.pem`` (chain), ``key.pem`` and ``ca.pem`` for 127.0.0.1 into ``directory``,
    as ``flask gen-cert`` does; every server of the run presents this certificate."""
    bundle = tls.make_certificate(["127.0.0.1", "localhost"], days=7)
    directory.mkdir(parents=True)
    (directory / "cert.pem").write_bytes(bundle.chain)
    (directory / "ca.pem").write_bytes(bundle.ca)
    key = directory / "key.pem"
    key.touch(mode=0o600)
    key.write_bytes(bundle.key)


def write_identity(path: Path) -> None:
    """Write a fresh age identity file, as ``flask keygen`` (and age-keygen) would: mode 0600,
    the public key in a comment, the secret key on its own line."""
    identity = X25519Identity.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"# created by the benchmark\n# public key: {identity.recipient}\n{identity}\n")


class SecureServer(Target):
    """secureserver's transfer endpoints; a stored file's handle is its id."""

    def __init__(self, spec: ServerSpec, name: str) -> None:
        super().__init__(spec)
        self.name = name

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        if method == PUT:
            return Transfer(
                f"{self.base_url}/upload/{name}", (("upload-file", str(path)),), response
            )
        form = f"file=@{path};filename={name}"
        return Transfer(f"{self.base_url}/upload", (("form", form),), response)

    def stored(self, name: str, size: int, sha256: str, response: Path | None) -> str:
        assert response is not None
        files = json.loads(response.read_bytes())["files"]
        if len(files) != 1 or files[0]["size"] != size or files[0]["sha256"] != sha256:
            raise StoredWrong(f"{self.name} stored {files}, sent {size} bytes with {sha256}")
        return str(files[0]["id"])

    def download(self, handle: str) -> Transfer:
        return Transfer(f"{self.base_url}/download/{handle}")

    def stage(self, path: Path, name: str, workdir: Path) -> str:
        response = workdir / "stage.json"
        upload = self.upload(PUT, path, name, response)
        run_clients([[upload]], path.stat().st_size, workdir)
        return self.stored(name, path.stat().st_size, sha256_of(path), response)

    def remove(self, handles: Sequence[str], workdir: Path) -> None:
        deletes = [
            Transfer(f"{self.base_url}/api/files/{h}", (("request", "DELETE"),)) for h in handles
        ]
        if deletes:
            run_clients([deletes], 0, workdir)


def _environment(
    instance: Path, certs: Path, port: int, extra: Mapping[str, str]
) -> dict[str, str]:
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
        LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def prepare(
    workdir: Path,
    certs: Path,
    name: str = "secureserver",
    extra_env: Mapping[str, str] | None = None,
    source: Path | None = None,
) -> SecureServer:
    """Create an instance folder with an identity under ``workdir``; describe how to serve.

    :param extra_env: settings of a variant, e.g. ``{"WEB_CONCURRENCY": "1"}``.
    :param source: another checkout to run (its ``secureserver`` and ``gunicorn.conf.py``).
    """
    root = source or PROJECT_ROOT
    instance = workdir / "instance"
    instance.mkdir(parents=True)
    port = free_port()
    extra = dict(extra_env or {})
    if source is not None:
        extra["PYTHONPATH"] = str(source)
    env = _environment(instance, certs, port, extra)
    write_identity(instance / IDENTITY_FILE)
    spec = ServerSpec(
        name=name,
        argv=[*tool("gunicorn"), "-c", str(root / "gunicorn.conf.py")],
        env=env,
        cwd=root,
        port=port,
        health_path="/healthz",
        cafile=certs / "ca.pem",
        log_path=workdir / "server.log",
    )
    return SecureServer(spec, name)

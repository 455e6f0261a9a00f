"""The raw TLS limit as a target: :mod:`bench.plaintls`, a bare Python HTTPS sink and source.

It stores nothing (PUT bodies are thrown away), so its uploads are checked by the status only.
"""

from __future__ import annotations

import sys
import typing as t

from ..curl import Transfer
from ..server import ServerSpec
from ..server import free_port
from . import PUT
from . import FolderTarget

if t.TYPE_CHECKING:
    from pathlib import Path


class PlainTls(FolderTarget):
    """A TLS stream with nothing behind it."""

    name = "python-tls"
    methods = (PUT,)
    reference = True

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        return Transfer(f"{self.base_url}/{name}", (("upload-file", str(path)),), response)

    def stored(self, name: str, size: int, sha256: str, response: Path | None) -> str:
        return name  # thrown away by design; curl's status was checked


def prepare(workdir: Path, certs: Path, project_root: Path) -> PlainTls:
    """Describe the sink/source serving ``workdir/files`` for downloads."""
    folder = workdir / "files"
    folder.mkdir(parents=True)
    port = free_port()
    argv = [
        sys.executable, "-m", "bench.plaintls", "--port", str(port),
        "--cert", str(certs / "cert.pem"), "--key", str(certs / "key.pem"), "--folder", str(folder),
    ]  # fmt: skip
    spec = ServerSpec(
        name="python-tls",
        argv=argv,
        env={"PATH": "/usr/bin:/bin"},
        cwd=project_root,
        port=port,
        health_path="/",
        cafile=certs / "ca.pem",
        log_path=workdir / "server.log",
        forks_workers=False,
    )
    return PlainTls(spec, folder)

"""copyparty (PyPI), from a throwaway virtualenv, over its own TLS with our certificate.

One anonymous read-write volume on a scratch folder, and its defaults otherwise: ``-q`` only
silences the per-request log lines on the terminal, and thumbnails are off (none of the
files is an image). PUT stores the body under the URL's name; a multipart POST to the folder
takes files in the field ``f``.
"""

from __future__ import annotations

import typing as t

from ..curl import Transfer
from ..peers import package_version
from ..server import free_port
from . import PUT
from . import FolderTarget
from . import python_peer_spec

if t.TYPE_CHECKING:
    from pathlib import Path

    from ..server import ServerSpec


class Copyparty(FolderTarget):
    """copyparty serving one folder."""

    name = "copyparty"

    def __init__(self, spec: ServerSpec, folder: Path, python: Path) -> None:
        super().__init__(spec, folder)
        self._python = python

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        if method == PUT:
            return Transfer(f"{self.base_url}/{name}", (("upload-file", str(path)),), response)
        return Transfer(f"{self.base_url}/", (("form", f"f=@{path};filename={name}"),), response)

    def versions(self) -> dict[str, str]:
        return {"copyparty": package_version(self._python, "copyparty")}


def prepare(workdir: Path, python: Path, bundle: Path) -> Copyparty:
    """Describe copyparty serving ``workdir/files`` with the key+certificate PEM ``bundle``."""
    folder = workdir / "files"
    folder.mkdir(parents=True)
    port = free_port()
    argv = [
        str(python), "-m", "copyparty", "-i", "127.0.0.1", "-p", str(port), "--https-only",
        "--cert", str(bundle), "-v", f"{folder}::rw", "-q", "--no-thumb",
    ]  # fmt: skip
    spec = python_peer_spec("copyparty", argv, workdir, port, bundle)
    return Copyparty(spec, folder, python)

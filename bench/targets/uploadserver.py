"""uploadserver (PyPI), from a throwaway virtualenv, with its TLS option.

It takes multipart uploads only (``POST /upload``, field ``files``) and serves its folder
for download with Python's ``http.server``.
"""

from __future__ import annotations

import typing as t

from ..curl import Transfer
from ..peers import package_version
from ..server import free_port
from . import MULTIPART
from . import FolderTarget
from . import python_peer_spec

if t.TYPE_CHECKING:
    from pathlib import Path

    from ..server import ServerSpec


class UploadServer(FolderTarget):
    """uploadserver serving one folder."""

    name = "uploadserver"
    methods = (MULTIPART,)

    def __init__(self, spec: ServerSpec, folder: Path, python: Path) -> None:
        super().__init__(spec, folder)
        self._python = python

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        form = f"files=@{path};filename={name}"
        return Transfer(f"{self.base_url}/upload", (("form", form),), response)

    def versions(self) -> dict[str, str]:
        return {"uploadserver": package_version(self._python, "uploadserver")}


def prepare(workdir: Path, python: Path, bundle: Path) -> UploadServer:
    """Describe uploadserver serving ``workdir/files`` with the key+certificate PEM ``bundle``."""
    folder = workdir / "files"
    folder.mkdir(parents=True)
    port = free_port()
    argv = [
        str(python), "-m", "uploadserver", str(port), "--bind", "127.0.0.1",
        "--directory", str(folder), "--server-certificate", str(bundle),
    ]  # fmt: skip
    spec = python_peer_spec("uploadserver", argv, workdir, port, bundle)
    return UploadServer(spec, folder, python)

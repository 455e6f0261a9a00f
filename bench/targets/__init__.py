"""The servers the benchmark runs, one module each: how to launch one, and how to talk to it.

Every module offers a ``prepare(...)`` that returns a :class:`Target`: the command that
starts the server (a :class:`~bench.server.ServerSpec`) and the requests that upload, download
and delete files on it, so that :mod:`bench.workloads` drives every server alike. The peers
serve a folder of plain files; :class:`FolderTarget` covers what they have in common.
"""

from __future__ import annotations

import os
import typing as t

from ..curl import Transfer
from ..server import ServerSpec

if t.TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PUT = "PUT"
MULTIPART = "multipart"


class StoredWrong(RuntimeError):
    """A server stored something other than what was sent to it."""


class Target:
    """A server under test. Subclasses fill in the requests their server understands.

    :ivar methods: the upload methods the server offers, :data:`PUT` and/or :data:`MULTIPART`.
    :ivar reference: a raw limit rather than a file server a user would pick (no ratios).
    """

    name: str
    methods: tuple[str, ...] = (PUT, MULTIPART)
    upload_ok: tuple[int, ...] = (200, 201, 204)
    reference = False

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.base_url = f"https://127.0.0.1:{spec.port}"

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        """The request that uploads the file ``path`` under ``name`` with ``method``."""
        raise NotImplementedError

    def stored(self, name: str, size: int, sha256: str, response: Path | None) -> str:
        """Check what an upload stored; return the handle to download or delete it by.

        :raises StoredWrong: if the server kept another size or content.
        """
        raise NotImplementedError

    def download(self, handle: str) -> Transfer:
        """The request that downloads a stored file."""
        return Transfer(f"{self.base_url}/{handle}")

    def stage(self, path: Path, name: str, workdir: Path) -> str:
        """Put the file ``path`` on the server, untimed, for the downloads; return its handle."""
        raise NotImplementedError

    def remove(self, handles: Sequence[str], workdir: Path) -> None:
        """Delete stored files, untimed, so that every run starts from the same storage."""
        raise NotImplementedError

    def versions(self) -> dict[str, str]:
        """The versions of what this target runs, for the report."""
        return {}


def python_peer_spec(
    name: str, argv: list[str], workdir: Path, port: int, bundle: Path
) -> ServerSpec:
    """Describe a single-process Python peer started from its throwaway virtualenv.

    :param bundle: the key and certificate PEM it serves with; ``ca.pem`` lies beside it.
    """
    return ServerSpec(
        name=name,
        argv=argv,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir)},
        cwd=workdir,
        port=port,
        health_path="/",
        cafile=bundle.parent / "ca.pem",
        log_path=workdir / "server.log",
        forks_workers=False,
    )


class FolderTarget(Target):
    """A peer that stores uploads as plain files in one folder, under the names sent."""

    def __init__(self, spec: ServerSpec, folder: Path) -> None:
        super().__init__(spec)
        self.folder = folder

    def stored(self, name: str, size: int, sha256: str, response: Path | None) -> str:
        # Only the size is checked: hashing a gigabyte per run would slow the run down, and
        # nothing on these servers transforms the bytes.
        try:
            found = (self.folder / name).stat().st_size
        except FileNotFoundError as e:
            raise StoredWrong(f"{self.name} did not store {name}") from e
        if found != size:
            raise StoredWrong(f"{self.name} stored {found} bytes of {name}, sent {size}")
        return name

    def stage(self, path: Path, name: str, workdir: Path) -> str:
        # A hard link: the same bytes, already in the page cache, at no cost in disk space.
        os.link(path, self.folder / name)
        return name

    def remove(self, handles: Sequence[str], workdir: Path) -> None:
        for handle in handles:
            (self.folder / handle).unlink(missing_ok=True)

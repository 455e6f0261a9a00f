"""The data the benchmarks move: a scratch directory under /tmp and a file of random bytes.

Random bytes, because nothing on the way (TLS, curl, the server) may compress them away. The
scratch directory is deleted however the run ends, so a failed run leaves no gigabyte behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterator

MiB = 1024 * 1024
PIECE_SIZE = MiB


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """Create a private directory under /tmp and remove it, with its contents, on exit."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def random_piece() -> bytes:
    """Return one :data:`PIECE_SIZE` buffer of random bytes, to be reused for a whole stream."""
    return os.urandom(PIECE_SIZE)


def write_random_file(path: Path, size: int) -> str:
    """Write ``size`` fresh random bytes to ``path``; return their SHA-256 in hex.

    Every piece is fresh from ``os.urandom``, so no part of the file repeats another.
    """
    digest = hashlib.sha256()
    with path.open("wb") as file:
        remaining = size
        while remaining:
            piece = os.urandom(min(PIECE_SIZE, remaining))
            digest.update(piece)
            file.write(piece)
            remaining -= len(piece)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(PIECE_SIZE):
            digest.update(piece)
    return digest.hexdigest()

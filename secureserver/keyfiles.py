"""Files that hold secrets: created owner-only, refused when others can read them.

The identity, the TLS key and the Flask secret key all live in files on disk. They share one
rule set, kept here so that no caller can forget a step: create with ``O_CREAT | O_EXCL`` and
mode 0600 (never overwrite, never widen), and refuse to use a file that another user could
read or replace.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

PRIVATE_MODE = 0o600


class KeyFileError(Exception):
    """A secret file is missing, unreadable or readable by other users."""


def create_private_file(path: Path, content: bytes) -> None:
    """Atomically create an owner-only file, refusing to replace an existing one.

    The content goes to a temporary file first and is then hard-linked into place, so a
    reader racing with the creator (another gunicorn worker, say) sees either no file or the
    whole file, never an empty one.

    :param path: where the secret goes; its directory must exist.
    :param content: the bytes to store.
    :raises FileExistsError: when something already exists at ``path``.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        # The mode given to open() is filtered by the umask; set it again so that it is exact.
        os.fchmod(fd, PRIVATE_MODE)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.link(temporary, path)
    finally:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)


def replace_private_file(path: Path, content: bytes) -> None:
    """Atomically write an owner-only file, replacing whatever was there.

    The new content is written beside it and renamed over it, so a reader sees the old
    file or the new one, never a mix.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    create_private_file(temporary, content)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_private(path: Path) -> None:
    """Refuse a secret file that is not a regular file owned by us and closed to others.

    :raises KeyFileError: with a message that says how to fix the file.
    """
    try:
        info = path.stat()
    except FileNotFoundError as e:
        raise KeyFileError(f"{path} does not exist") from e
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{path} is not a regular file")
    if info.st_uid != os.geteuid():
        raise KeyFileError(
            f"{path} is owned by uid {info.st_uid}, not by this user ({os.geteuid()})"
        )
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"{path} is accessible by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )


def read_private_file(path: Path) -> bytes:
    """Read a secret file after checking that only its owner can access it.

    :raises KeyFileError: when the file is missing or too open.
    """
    check_private(path)
    return path.read_bytes()


def load_or_create_token(path: Path, nbytes: int = 32) -> str:
    """Return the random token stored at ``path``, creating it on first use.

    Several gunicorn workers may start at once; ``O_EXCL`` lets exactly one of them create the
    file and the others read what it wrote.

    :param path: the token file.
    :param nbytes: entropy of a new token.
    """
    with contextlib.suppress(FileExistsError):
        create_private_file(path, secrets.token_urlsafe(nbytes).encode("ascii"))
    token = read_private_file(path).decode("ascii").strip()
    if not token:
        raise KeyFileError(f"{path} is empty; delete it and restart to make a new one")
    return token

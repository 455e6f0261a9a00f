"""The optional access password: how it is hashed, stored and checked. Flask-free.

The password is stored as an scrypt hash (memory-hard, in the standard library) in an
owner-only file of the instance folder. A correct password is remembered for a few minutes
as a keyed digest, so that API clients sending it on every request (HTTP Basic or bearer)
do not pay a deliberate 50 ms of scrypt each time, while guesses always do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
import typing as t
from dataclasses import dataclass

from .keyfiles import KeyFileError
from .keyfiles import read_private_file
from .keyfiles import replace_private_file

if t.TYPE_CHECKING:
    from pathlib import Path

SCHEME = "scrypt"
# scrypt with N=2**15, r=8 uses 32 MiB and about 50 ms here: slow for guessing, fine for login.
LOG2_N, BLOCK_SIZE, PARALLELISM = 15, 8, 1
SALT_SIZE, HASH_SIZE = 16, 32
MAX_MEMORY = 64 * 1024 * 1024
MIN_LENGTH = 8
REMEMBER_SECONDS = 300


class PasswordFileError(Exception):
    """The password file is malformed or not private."""


@dataclass(frozen=True)
class PasswordHash:
    """A parsed ``scrypt$log2n$r$p$salt$hash`` line."""

    log2_n: int
    block_size: int
    parallelism: int
    salt: bytes
    digest: bytes

    @classmethod
    def make(cls, password: str) -> PasswordHash:
        """Hash a new password with a fresh salt."""
        salt = secrets.token_bytes(SALT_SIZE)
        return cls(LOG2_N, BLOCK_SIZE, PARALLELISM, salt, _scrypt(password, salt, LOG2_N))

    @classmethod
    def parse(cls, line: str) -> PasswordHash:
        """:raises PasswordFileError: when ``line`` is not a hash this module wrote."""
        try:
            scheme, log2_n, block, parallel, salt, digest = line.strip().split("$")
            if scheme != SCHEME:
                raise ValueError(scheme)
            return cls(
                int(log2_n),
                int(block),
                int(parallel),
                base64.b64decode(salt, validate=True),
                base64.b64decode(digest, validate=True),
            )
        except ValueError:
            raise PasswordFileError("the password file is not an scrypt hash") from None

    def __str__(self) -> str:
        salt, digest = (base64.b64encode(v).decode() for v in (self.salt, self.digest))
        return f"{SCHEME}${self.log2_n}${self.block_size}${self.parallelism}${salt}${digest}"

    def matches(self, password: str) -> bool:
        """Tell whether ``password`` is the one hashed, in constant time."""
        attempt = _scrypt(password, self.salt, self.log2_n, self.block_size, self.parallelism)
        return hmac.compare_digest(attempt, self.digest)


def _scrypt(
    password: str, salt: bytes, log2_n: int, r: int = BLOCK_SIZE, p: int = PARALLELISM
) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**log2_n,
        r=r,
        p=p,
        maxmem=MAX_MEMORY,
        dklen=HASH_SIZE,
    )


def set_password(path: Path, password: str) -> None:
    """Store the hash of a new password, replacing any previous one.

    :raises ValueError: when the password is shorter than :data:`MIN_LENGTH`.
    """
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    replace_private_file(path, f"{PasswordHash.make(password)}\n".encode())


class AccessPassword:
    """The password an instance requires, if any, read from its file as the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded: tuple[float, PasswordHash] | None = None
        self._remembered: dict[bytes, float] = {}

    def current(self) -> PasswordHash | None:
        """Return the stored hash, or None when no password is set.

        :raises PasswordFileError: when the file exists but cannot be trusted.
        """
        try:
            changed = os.stat(self.path).st_mtime
        except FileNotFoundError:
            return None
        with self._lock:
            if self._loaded is None or self._loaded[0] != changed:
                try:
                    text = read_private_file(self.path).decode("ascii")
                except (KeyFileError, UnicodeDecodeError) as e:
                    raise PasswordFileError(f"cannot use the password file: {e}") from e
                self._loaded = (changed, PasswordHash.parse(text))
                self._remembered.clear()
            return self._loaded[1]

    def fingerprint(self) -> str | None:
        """A short value that changes with the password: sessions record it to end with it."""
        current = self.current()
        return None if current is None else hashlib.sha256(str(current).encode()).hexdigest()[:16]

    def check(self, password: str) -> bool:
        """Tell whether ``password`` is the access password (False when none is set)."""
        current = self.current()
        if current is None:
            return False
        key = hmac.new(current.salt, password.encode("utf-8"), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if self._remembered.get(key, 0.0) > now:
                return True
        if not current.matches(password):
            return False
        with self._lock:
            self._remembered[key] = now + REMEMBER_SECONDS
        return True

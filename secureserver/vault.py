"""The encryption service: the server's age identity and the streams it seals and opens.

The identity is read lazily, on first use, so that the Flask CLI can run the factory to
*create* an identity before one exists. Everything else in the server reaches keys only
through this class: blueprints and storage never see them.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass

from .crypto import AgeReader
from .crypto import AgeWriter
from .crypto import X25519Identity
from .crypto import X25519Recipient
from .crypto import decrypt
from .crypto import encrypt
from .crypto import parse_identity_file
from .fieldcipher import FieldCipher
from .keyfiles import KeyFileError
from .keyfiles import read_private_file

if t.TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from .storage import PendingBlob


FIELD_KEY_PURPOSE = b"secureserver/metadata/v1"


class IdentityError(Exception):
    """The server's identity is missing, unreadable, malformed or readable by others."""


@dataclass(frozen=True)
class _KeyRing:
    """The identities read from one version of the identity file, and what derives from them."""

    stamp: tuple[int, int, int]
    identities: list[X25519Identity]
    field_cipher: FieldCipher


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, info.st_size


class Vault:
    """Encrypts new files to the server's identity and decrypts stored ones.

    The identity file is read again whenever it changes (checked with one ``stat`` per use),
    so a key rotation that puts a new identity first and keeps the old one after it is
    picked up by every worker without a restart.

    :param recovery_recipients: offline keys every new file is also encrypted to, so that
        their owner can decrypt it with the standard ``age`` tool if the identity is lost.
    """

    def __init__(
        self, identity_path: Path, recovery_recipients: Sequence[X25519Recipient] = ()
    ) -> None:
        self.identity_path = identity_path
        self.recovery_recipients = list(recovery_recipients)
        self._ring: _KeyRing | None = None
        self._lock = threading.Lock()

    def _keyring(self) -> _KeyRing:
        try:
            stamp = _stamp(self.identity_path)
        except OSError:
            if self._ring is not None:
                # Removed or moved while running: keep serving with the keys in memory.
                return self._ring
            stamp = (0, 0, 0)
        ring = self._ring
        if ring is None or ring.stamp != stamp:
            with self._lock:
                ring = self._ring
                if ring is None or ring.stamp != stamp:
                    identities = self._load()
                    keys = [identity.derive_key(FIELD_KEY_PURPOSE) for identity in identities]
                    ring = self._ring = _KeyRing(stamp, identities, FieldCipher(keys))
        return ring

    def identities(self) -> list[X25519Identity]:
        """Return the identities of the identity file, the current one first.

        :raises IdentityError: with a message that tells the admin what to do.
        """
        return self._keyring().identities

    def _load(self) -> list[X25519Identity]:
        try:
            text = read_private_file(self.identity_path).decode("utf-8")
        except KeyFileError as e:
            raise IdentityError(
                f"cannot use the server identity: {e}. "
                "Create one with: flask --app secureserver keygen"
            ) from e
        except (OSError, UnicodeDecodeError) as e:
            raise IdentityError(f"cannot read the server identity {self.identity_path}") from e
        try:
            identities = parse_identity_file(text)
        except ValueError as e:
            raise IdentityError(f"{self.identity_path} is not an age identity file: {e}") from e
        if not identities:
            raise IdentityError(f"{self.identity_path} holds no identity")
        return identities

    def is_ready(self) -> bool:
        """Tell whether the identity can be loaded, without raising."""
        try:
            self.identities()
        except IdentityError:
            return False
        return True

    def field_cipher(self) -> FieldCipher:
        """Return the cipher that seals metadata values, keyed from every loaded identity.

        :raises IdentityError: when the identity cannot be loaded.
        """
        return self._keyring().field_cipher

    def recipients(self) -> list[X25519Recipient]:
        """Who new files are encrypted to: the current identity, then the recovery keys."""
        return [self.identities()[0].recipient, *self.recovery_recipients]

    def encrypt(self, sink: PendingBlob) -> AgeWriter:
        """Start an age file for :meth:`recipients`, writing its ciphertext to ``sink``."""
        return encrypt(self.recipients(), sink)

    def decrypt(self, source: t.BinaryIO) -> AgeReader:
        """Open an age file: parse and authenticate its header, ready to stream its chunks.

        :raises DecryptionError: when the header is malformed, tampered with, or not ours.
        """
        return decrypt(self.identities(), source)

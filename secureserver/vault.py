"""The encryption service: the server's age identity and the streams it seals and opens.

The identity is read lazily, on first use, so that the Flask CLI can run the factory to
*create* an identity before one exists. Everything else in the server reaches keys only
through this class: blueprints and storage never see them.
"""

from __future__ import annotations

import threading
import typing as t

from .crypto import AgeReader
from .crypto import AgeWriter
from .crypto import X25519Identity
from .crypto import decrypt
from .crypto import encrypt
from .crypto import parse_identity_file
from .fieldcipher import FieldCipher
from .keyfiles import KeyFileError
from .keyfiles import read_private_file

if t.TYPE_CHECKING:
    from pathlib import Path

    from .storage import PendingBlob


FIELD_KEY_PURPOSE = b"secureserver/metadata/v1"


class IdentityError(Exception):
    """The server's identity is missing, unreadable, malformed or readable by others."""


class Vault:
    """Encrypts new files to the server's identity and decrypts stored ones."""

    def __init__(self, identity_path: Path) -> None:
        self.identity_path = identity_path
        self._identities: list[X25519Identity] | None = None
        self._field_cipher: FieldCipher | None = None
        self._lock = threading.Lock()

    def identities(self) -> list[X25519Identity]:
        """Return the loaded identities, reading the identity file on first use.

        :raises IdentityError: with a message that tells the admin what to do.
        """
        with self._lock:
            if self._identities is None:
                self._identities = self._load()
            return self._identities

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
        if self._field_cipher is None:
            # Two threads may both build it; they build the same thing, and either one wins.
            keys = [identity.derive_key(FIELD_KEY_PURPOSE) for identity in self.identities()]
            self._field_cipher = FieldCipher(keys)
        return self._field_cipher

    def encrypt(self, sink: PendingBlob) -> AgeWriter:
        """Start an age file for the server's identity, writing its ciphertext to ``sink``."""
        return encrypt([self.identities()[0].recipient], sink)

    def decrypt(self, source: t.BinaryIO) -> AgeReader:
        """Open an age file: parse and authenticate its header, ready to stream its chunks.

        :raises DecryptionError: when the header is malformed, tampered with, or not ours.
        """
        return decrypt(self.identities(), source)

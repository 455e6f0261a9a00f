"""Small values at rest (file names, media types, content hashes), sealed with ChaCha20-Poly1305.

The metadata database would otherwise tell anyone who copies it what every file is called,
and the SHA-256 of each plaintext would let them confirm a guess about its content. Each
value is sealed separately under a key derived from the server identity, with a fresh random
nonce, as ``version || key id || nonce || ciphertext+tag``. The associated data names the row
and the column, so a sealed name moved to another file's row, or into another column, no
longer opens. The key id lets a key rotation keep old and new keys loaded side by side.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import typing as t

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

if t.TYPE_CHECKING:
    from collections.abc import Sequence

FORMAT_VERSION = 1
KEY_ID_SIZE = 4
NONCE_SIZE = 12
HEADER_SIZE = 1 + KEY_ID_SIZE + NONCE_SIZE


class FieldDecryptionError(Exception):
    """A sealed value is malformed, was moved, was tampered with, or its key is not loaded."""


def _key_id(key: bytes) -> bytes:
    # A MAC of a constant under the key: names the key without revealing anything about it.
    return hmac.new(key, b"secureserver field key id", hashlib.sha256).digest()[:KEY_ID_SIZE]


def _associated_data(row: str, column: str) -> bytes:
    return f"{row}\x00{column}".encode()


class FieldCipher:
    """Seals values with the first key; opens values sealed with any of the keys.

    :param keys: 32-byte keys, the current one first.
    """

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._current = keys[0]
        self._by_id = {_key_id(key): ChaCha20Poly1305(key) for key in keys}

    def seal(self, value: str, *, row: str, column: str) -> bytes:
        """Encrypt ``value`` for the cell at ``row`` and ``column``."""
        key_id = _key_id(self._current)
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._by_id[key_id].encrypt(
            nonce, value.encode("utf-8"), _associated_data(row, column)
        )
        return bytes([FORMAT_VERSION]) + key_id + nonce + sealed

    def is_current(self, sealed: bytes) -> bool:
        """Tell whether ``sealed`` was sealed with the current key (no need to reseal it)."""
        return sealed[1 : 1 + KEY_ID_SIZE] == _key_id(self._current)

    def open(self, sealed: bytes, *, row: str, column: str) -> str:
        """Decrypt the value sealed for the cell at ``row`` and ``column``.

        :raises FieldDecryptionError: when it does not authenticate there.
        """
        if len(sealed) < HEADER_SIZE or sealed[0] != FORMAT_VERSION:
            raise FieldDecryptionError(f"malformed sealed {column} of {row}")
        aead = self._by_id.get(sealed[1 : 1 + KEY_ID_SIZE])
        if aead is None:
            raise FieldDecryptionError(f"{column} of {row} is sealed with a key not loaded")
        nonce, ciphertext = sealed[1 + KEY_ID_SIZE : HEADER_SIZE], sealed[HEADER_SIZE:]
        try:
            plaintext = aead.decrypt(nonce, ciphertext, _associated_data(row, column))
        except InvalidTag:
            raise FieldDecryptionError(f"{column} of {row} failed to authenticate") from None
        return plaintext.decode("utf-8")

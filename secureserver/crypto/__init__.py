"""age v1 file encryption (C2SP age), the format of every file the server stores.

The rest of the application needs only this surface: :func:`encrypt` to turn an upload into
an age file, :func:`decrypt` to stream one back (from any chunk, for HTTP ranges), the X25519
key types, and the size arithmetic for ``Content-Length`` and ``Range``.
"""

from __future__ import annotations

from .age import AgeReader
from .age import AgeWriter
from .age import decrypt
from .age import encrypt
from .age import is_addressed_to
from .age import rewrap
from .errors import DecryptionError
from .errors import EncryptionError
from .errors import HeaderError
from .stream import CHUNK_SIZE
from .stream import STREAM_NONCE_SIZE
from .stream import chunk_index
from .stream import encrypted_size
from .stream import plaintext_size
from .x25519 import InvalidKeyError
from .x25519 import X25519Identity
from .x25519 import X25519Recipient
from .x25519 import parse_identity_file

__all__ = [
    "CHUNK_SIZE",
    "STREAM_NONCE_SIZE",
    "AgeReader",
    "AgeWriter",
    "DecryptionError",
    "EncryptionError",
    "HeaderError",
    "InvalidKeyError",
    "X25519Identity",
    "X25519Recipient",
    "chunk_index",
    "decrypt",
    "encrypt",
    "encrypted_size",
    "is_addressed_to",
    "parse_identity_file",
    "plaintext_size",
    "rewrap",
]

"""X25519 recipients and identities (C2SP age, "The X25519 recipient type").

A recipient (``age1…``) wraps the file key in a stanza; the matching identity
(``AGE-SECRET-KEY-1…``) unwraps it. Nothing in this module puts secret key material into an
exception message or a ``repr``: those end up in logs.
"""

from __future__ import annotations

import typing as t

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import bech32
from .errors import DecryptionError
from .format import Stanza
from .format import b64decode
from .format import b64encode
from .stream import FILE_KEY_SIZE
from .stream import TAG_SIZE

if t.TYPE_CHECKING:
    from collections.abc import Sequence

X25519_LABEL = b"age-encryption.org/v1/X25519"
STANZA_TYPE = "X25519"
RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
KEY_SIZE = 32
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + TAG_SIZE

# The nonce is fixed because each wrap key is derived from a fresh ephemeral secret and used
# for exactly one encryption.
_WRAP_NONCE = bytes(12)


class InvalidKeyError(ValueError):
    """A recipient, identity or identity file is malformed."""


def _wrap_key(shared_secret: bytes, share: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=share + recipient, info=X25519_LABEL)
    return hkdf.derive(shared_secret)


class X25519Recipient:
    """An X25519 public key that files can be encrypted to.

    :param public_key: the raw 32-byte Curve25519 point.
    :raises InvalidKeyError: if it is not 32 bytes.
    """

    def __init__(self, public_key: bytes) -> None:
        if len(public_key) != KEY_SIZE:
            raise InvalidKeyError("X25519 public key must be 32 bytes")
        self._public_key = bytes(public_key)
        self._key = X25519PublicKey.from_public_bytes(self._public_key)

    @classmethod
    def parse(cls, s: str) -> X25519Recipient:
        """Parse the ``age1…`` Bech32 encoding of a recipient.

        :raises InvalidKeyError: if ``s`` is not a lowercase ``age1`` recipient. The message
            does not quote ``s``, in case a secret key was pasted by mistake.
        """
        try:
            hrp, data = bech32.decode(s)
        except bech32.Bech32Error as e:
            raise InvalidKeyError(f"malformed recipient: {e}") from None
        if hrp != RECIPIENT_HRP:
            raise InvalidKeyError("malformed recipient: not an age1 X25519 recipient")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self._public_key)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, X25519Recipient):
            return NotImplemented
        return self._public_key == other._public_key

    def __hash__(self) -> int:
        return hash(self._public_key)

    def wrap(self, file_key: bytes) -> Stanza:
        """Wrap the file key in a new stanza, with a fresh ephemeral secret.

        :param file_key: the 16-byte file key.
        :raises ValueError: if the file key is not 16 bytes, or the recipient is a low-order
            point (which no honest key is).
        """
        if len(file_key) != FILE_KEY_SIZE:
            raise ValueError("file key must be 16 bytes")
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        wrap_key = _wrap_key(ephemeral.exchange(self._key), share, self._public_key)
        body = ChaCha20Poly1305(wrap_key).encrypt(_WRAP_NONCE, file_key, None)
        return Stanza(STANZA_TYPE, (b64encode(share),), body)


class X25519Identity:
    """An X25519 secret key that unwraps file keys wrapped to its recipient.

    :param secret_key: the raw 32-byte scalar.
    :raises InvalidKeyError: if it is not 32 bytes.
    """

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) != KEY_SIZE:
            raise InvalidKeyError("X25519 secret key must be 32 bytes")
        self._key = X25519PrivateKey.from_private_bytes(secret_key)
        self._public_key = self._key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> X25519Identity:
        """Create a new random identity."""
        return cls(X25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def parse(cls, s: str) -> X25519Identity:
        """Parse the ``AGE-SECRET-KEY-1…`` Bech32 encoding of an identity.

        :raises InvalidKeyError: if ``s`` is not an uppercase X25519 secret key.
        """
        try:
            hrp, data = bech32.decode(s)
        except bech32.Bech32Error as e:
            raise InvalidKeyError(f"malformed secret key: {e}") from None
        if hrp != IDENTITY_HRP:
            raise InvalidKeyError("malformed secret key: not an AGE-SECRET-KEY-1 identity")
        return cls(data)

    @property
    def recipient(self) -> X25519Recipient:
        """The public key that files for this identity are encrypted to."""
        return X25519Recipient(self._public_key)

    def derive_key(self, purpose: bytes) -> bytes:
        """Derive a 32-byte key for another use of this identity (not part of age).

        HKDF-SHA-256 over the secret scalar with ``purpose`` as info keeps each use's key
        independent of the others and of the X25519 exchange, and the scalar never leaves
        this object.

        :param purpose: a label unique to the use, e.g. ``b"secureserver/metadata/v1"``.
        """
        secret = self._key.private_bytes_raw()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._key.private_bytes_raw())

    def __repr__(self) -> str:
        # Only the public half: reprs end up in logs and tracebacks.
        return f"X25519Identity({self.recipient})"

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the first X25519 stanza that this identity opens.

        Stanzas of other types are skipped. A malformed X25519 stanza is fatal rather than
        skipped, as in age.

        :param stanzas: the stanzas of a parsed header.
        :return: the 16-byte file key, or ``None`` if no stanza was addressed to us.
        :raises DecryptionError: on a malformed X25519 stanza or a low-order ephemeral share.
        """
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            file_key = self._unwrap_one(stanza)
            if file_key is not None:
                return file_key
        return None

    def _unwrap_one(self, stanza: Stanza) -> bytes | None:
        if len(stanza.args) != 1:
            raise DecryptionError("invalid X25519 stanza: want exactly one argument")
        share = b64decode(stanza.args[0])
        if len(share) != KEY_SIZE:
            raise DecryptionError("invalid X25519 stanza: ephemeral share is not 32 bytes")
        # Checked before decrypting: a longer ciphertext could be crafted to open under many
        # keys, which would turn failures into an oracle (partitioning oracle attacks).
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise DecryptionError("invalid X25519 stanza: body is not 32 bytes")
        try:
            shared_secret = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:
            # OpenSSL refuses low-order points, whose shared secret is all zeros.
            raise DecryptionError("invalid X25519 stanza: low-order ephemeral share") from None
        if not any(shared_secret):
            raise DecryptionError("invalid X25519 stanza: all-zero shared secret")
        wrap_key = _wrap_key(shared_secret, share, self._public_key)
        try:
            return ChaCha20Poly1305(wrap_key).decrypt(_WRAP_NONCE, stanza.body, None)
        except InvalidTag:
            return None


def parse_identity_file(text: str) -> list[X25519Identity]:
    """Parse an identity file as written by ``age-keygen``: one secret key per line.

    Blank lines and lines starting with ``#`` are ignored, as are CR line endings.

    :param text: the whole file.
    :raises InvalidKeyError: naming the line number but never its contents.
    """
    identities = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        if not line.startswith(IDENTITY_HRP + "1"):
            raise InvalidKeyError(f"identity file line {number}: not an X25519 secret key")
        try:
            identities.append(X25519Identity.parse(line))
        except InvalidKeyError as e:
            raise InvalidKeyError(f"identity file line {number}: {e}") from None
    if not identities:
        raise InvalidKeyError("identity file contains no identities")
    return identities

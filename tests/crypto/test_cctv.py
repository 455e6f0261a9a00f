"""The C2SP CCTV age test vectors (``cctv/``), decrypted with :func:`decrypt`.

Each vector is an age file behind a few ``key: value`` lines that say what decrypting it
must give (``cctv/README.upstream.md``, "Test file format"). Vectors for what we do not
implement (armor, scrypt, post-quantum keys) are filtered out, and the counts are asserted
so that the set cannot shrink unnoticed.

Our API has one exception for every failure, which the vector format allows ("consider
aliasing indistinguishable cases"). To keep a parse error from hiding behind a later one,
the test tells the header outcomes apart by message, as age's own ``testkit_test.go`` does
for "bad header MAC".
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secureserver.crypto import DecryptionError
from secureserver.crypto import HeaderError
from secureserver.crypto import X25519Identity
from secureserver.crypto import decrypt

VECTORS = Path(__file__).parent / "cctv" / "testdata"
EXPECTED_TOTAL = 143
EXPECTED_SKIPPED = {"armor": 33, "scrypt": 25, "post-quantum": 18}
EXPECTED_KEPT = {
    "success": 14,
    "header failure": 31,
    "HMAC failure": 1,
    "no match": 3,
    "payload failure": 18,
}

HEADER_OUTCOMES = ("header failure", "HMAC failure", "no match")
OUTCOMES = ("success", "payload failure", "armor failure", *HEADER_OUTCOMES)
KNOWN_KEYS = frozenset(
    ("expect", "payload", "file key", "identity", "passphrase", "armored", "compressed", "comment")
)

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# A header is at most 64 KiB here (format.MAX_HEADER_SIZE), so this much holds its stanzas.
HEADER_WINDOW = 64 * 1024
_STANZA_TYPE = re.compile(rb"^-> (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Vector:
    """One test vector: its header fields and the (possibly compressed) age file."""

    name: str
    fields: dict[str, list[str]]
    body: bytes

    def field(self, key: str) -> str | None:
        values = self.fields.get(key)
        return values[0] if values else None

    @property
    def expect(self) -> str:
        return self.fields["expect"][0]

    @property
    def payload_hash(self) -> bytes:
        digest = self.field("payload")
        assert digest is not None, f"{self.name} gives no payload hash"
        return bytes.fromhex(digest)

    def age_file(self, limit: int = 0) -> bytes:
        """The age file, decompressed; only its first ``limit`` bytes if that is not 0."""
        if self.field("compressed") != "zlib":
            return self.body[:limit] if limit else self.body
        return zlib.decompressobj().decompress(self.body, limit)

    def skip_reason(self) -> str | None:
        """Why we cannot run this vector, or ``None`` if we can."""
        if set(self.fields) - KNOWN_KEYS:
            return "unknown key"  # "Files with unknown keys should be ignored."
        if "armored" in self.fields:
            return "armor"
        head = self.age_file(HEADER_WINDOW)
        stanza_types = set(_STANZA_TYPE.findall(head.split(b"\n---", 1)[0]))
        if "passphrase" in self.fields or b"scrypt" in stanza_types:
            return "scrypt"
        identities = self.fields.get("identity", [])
        if b"mlkem768x25519" in stanza_types or any("-PQ-" in i for i in identities):
            return "post-quantum"
        if b"p256tag" in stanza_types or b"mlkem768p256tag" in stanza_types:
            return "tagged"
        if not all(i.startswith("AGE-SECRET-KEY-1") for i in identities):
            return "other identity"
        return None


def _load(path: Path) -> Vector:
    header, separator, body = path.read_bytes().partition(b"\n\n")
    assert separator, f"{path.name}: no blank line after the vector header"
    fields: dict[str, list[str]] = {}
    for line in header.decode("ascii").split("\n"):
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    assert fields.get("expect", [""])[0] in OUTCOMES, f"{path.name}: unknown expect"
    return Vector(path.name, fields, body)


ALL_VECTORS = [_load(path) for path in sorted(VECTORS.iterdir())]
KEPT = [v for v in ALL_VECTORS if v.skip_reason() is None]


def _kept(*outcomes: str) -> pytest.MarkDecorator:
    vectors = [v for v in KEPT if v.expect in outcomes]
    return pytest.mark.parametrize("vector", vectors, ids=[v.name for v in vectors])


def _identities(vector: Vector, fallback: X25519Identity) -> list[X25519Identity]:
    # Only "empty" has no identity; it must fail in the header, before any key is tried.
    return [X25519Identity.parse(s) for s in vector.fields.get("identity", [])] or [fallback]


def _header_outcome(error: DecryptionError) -> str:
    message = str(error)
    if "no identity matched" in message:
        return "no match"
    if "bad header MAC" in message:
        return "HMAC failure"
    return "header failure"


def _open_chunk(aead: ChaCha20Poly1305, index: int, sealed: bytes, last: bool) -> bytes | None:
    try:
        return aead.decrypt((index << 8 | last).to_bytes(12, "big"), sealed, None)
    except InvalidTag:
        return None


def _linear_release(vector: Vector) -> list[bytes]:
    """The chunks a streaming reader releases before it fails (C2SP age, "Payload").

    This is age's ``stream.DecryptReader``, which the vectors' ``payload`` hashes describe:
    it walks the chunks in order with the file key the vector gives, takes a short chunk as
    the final one, retries a full one as final, and stops after the first final chunk.
    """
    data = vector.age_file()
    # Base64 has no "-", so the first line that starts with "---" is the MAC line.
    header_size = data.index(b"\n", data.index(b"\n---") + 1) + 1
    nonce, payload = data[header_size : header_size + 16], data[header_size + 16 :]
    file_key = bytes.fromhex(vector.field("file key") or "")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload")
    aead = ChaCha20Poly1305(hkdf.derive(file_key))
    released: list[bytes] = []
    for index, offset in enumerate(range(0, len(payload), ENCRYPTED_CHUNK_SIZE)):
        sealed = payload[offset : offset + ENCRYPTED_CHUNK_SIZE]
        last = len(sealed) < ENCRYPTED_CHUNK_SIZE
        if last and index > 0 and len(sealed) == TAG_SIZE:
            break  # an empty final chunk, allowed only for the empty file
        plaintext = _open_chunk(aead, index, sealed, last)
        if plaintext is None and not last:
            last = True  # maybe a full-length final chunk
            plaintext = _open_chunk(aead, index, sealed, last)
        if plaintext is None:
            break
        released.append(plaintext)
        if last:
            break
    return released


def test_vector_set_is_complete() -> None:
    assert len(ALL_VECTORS) == EXPECTED_TOTAL
    skipped = Counter(v.skip_reason() for v in ALL_VECTORS if v.skip_reason() is not None)
    assert dict(skipped) == EXPECTED_SKIPPED
    assert dict(Counter(v.expect for v in KEPT)) == EXPECTED_KEPT


@_kept("success")
def test_success(vector: Vector, spec_identity: X25519Identity) -> None:
    reader = decrypt(_identities(vector, spec_identity), io.BytesIO(vector.age_file()))
    chunks = list(reader.chunks())
    plaintext = b"".join(chunks)
    assert hashlib.sha256(plaintext).digest() == vector.payload_hash
    assert reader.plaintext_size == len(plaintext)
    assert reader.chunk_count == len(chunks)
    # Seeking (C2SP age, "Payload"): any chunk read on its own is that chunk of the stream.
    for index, chunk in enumerate(chunks):
        assert next(reader.chunks(index)) == chunk


@_kept(*HEADER_OUTCOMES)
def test_header_outcome(vector: Vector, spec_identity: X25519Identity) -> None:
    source = io.BytesIO(vector.age_file())
    with pytest.raises(DecryptionError) as excinfo:
        decrypt(_identities(vector, spec_identity), source)
    assert _header_outcome(excinfo.value) == vector.expect, str(excinfo.value)


@_kept("payload failure")
def test_payload_failure(vector: Vector, spec_identity: X25519Identity) -> None:
    """Only chunks that authenticate, in order, come out before the error.

    A streaming reader may release every chunk before the bad one; ``decrypt`` checks the
    final chunk and the payload size first, so it often fails before any chunk, which is
    stricter. Either way what came out must be a prefix, chunk for chunk, of what the
    vector's ``payload`` hash covers.
    """
    authenticated = _linear_release(vector)
    assert hashlib.sha256(b"".join(authenticated)).digest() == vector.payload_hash
    released: list[bytes] = []
    with pytest.raises(DecryptionError) as excinfo:
        reader = decrypt(_identities(vector, spec_identity), io.BytesIO(vector.age_file()))
        for chunk in reader.chunks():
            released.append(chunk)
    # The header parsed, a key unwrapped and the MAC matched: the failure is in the payload.
    assert not isinstance(excinfo.value, HeaderError), str(excinfo.value)
    assert _header_outcome(excinfo.value) not in ("no match", "HMAC failure"), str(excinfo.value)
    assert released == authenticated[: len(released)]

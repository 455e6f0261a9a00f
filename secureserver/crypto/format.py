"""The age v1 header: stanzas, canonical base64 and the header MAC (C2SP age, "Header").

The parser is strict on purpose. It accepts exactly the grammar of "ABNF definition of file
header", so the bytes it authenticates are the bytes a re-encoding would produce and an
attacker cannot find two spellings of one header. It also caps the header size, each line and
the number of stanzas, because it runs before anything is authenticated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import typing as t
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import HeaderError

if t.TYPE_CHECKING:
    from collections.abc import Iterable

VERSION_LINE = b"age-encryption.org/v1\n"
STANZA_PREFIX = b"-> "
FOOTER_PREFIX = b"--- "
MAC_MARK = b"---"
MAC_SIZE = 32
COLUMNS_PER_LINE = 64

MAX_HEADER_SIZE = 64 * 1024
# Long enough for the 1120-byte share of an mlkem768x25519 stanza (1494 characters).
MAX_LINE_SIZE = 4 * 1024
# Each X25519 stanza costs a scalar multiplication per identity; bound that work.
MAX_STANZAS = 256

_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")
# The MAC line has a fixed length: "--- ", 43 base64 characters for 32 bytes, LF.
_FOOTER_SIZE = len(FOOTER_PREFIX) + -(-MAC_SIZE * 4 // 3) + 1


@dataclass(frozen=True)
class Stanza:
    """A recipient stanza: its type (the first argument), the other arguments and the body."""

    type: str
    args: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class ParsedHeader:
    """A syntactically valid header, not yet authenticated.

    :param stanzas: the recipient stanzas, in file order.
    :param mac: the 32-byte MAC from the last line.
    :param mac_input: the header up to and including ``---``, which the MAC covers.
    :param size: the number of bytes the header occupies; the payload nonce follows.
    """

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes
    size: int


def b64encode(data: bytes) -> str:
    """Encode bytes as canonical unpadded standard base64."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(s: str) -> bytes:
    """Decode unpadded standard base64, accepting only the canonical encoding.

    :param s: the encoded text, without ``=`` padding or whitespace.
    :raises HeaderError: on padding, whitespace, any other character outside the alphabet,
        an impossible length, or unused trailing bits that are not zero.
    """
    raw = s.encode("ascii", "replace")
    if _BASE64.fullmatch(raw) is None or len(raw) % 4 == 1:
        raise HeaderError("invalid base64 encoding")
    data = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    # The standard decoder ignores the unused low bits of the last character; two spellings
    # of one value would make the header malleable, so require the one we would emit.
    if b64encode(data) != s:
        raise HeaderError("non-canonical base64 encoding")
    return data


def is_valid_argument(arg: str) -> bool:
    """Whether ``arg`` is a non-empty run of visible ASCII characters (``1*VCHAR``)."""
    return bool(arg) and all(33 <= ord(c) <= 126 for c in arg)


def _marshal_stanza(stanza: Stanza) -> bytes:
    words = (stanza.type, *stanza.args)
    if not all(is_valid_argument(word) for word in words):
        raise ValueError("stanza arguments must be non-empty visible ASCII")
    encoded = b64encode(stanza.body).encode("ascii")
    lines = [encoded[i : i + COLUMNS_PER_LINE] for i in range(0, len(encoded), COLUMNS_PER_LINE)]
    # The body ends at the first short line, so a multiple of 64 columns needs an empty one.
    if len(encoded) % COLUMNS_PER_LINE == 0:
        lines.append(b"")
    args_line = STANZA_PREFIX + " ".join(words).encode("ascii") + b"\n"
    return args_line + b"\n".join(lines) + b"\n"


def marshal_header_without_mac(stanzas: Iterable[Stanza]) -> bytes:
    """Encode the header up to and including ``---``: exactly the bytes the MAC covers.

    :raises ValueError: if a stanza argument is empty or not visible ASCII.
    """
    return VERSION_LINE + b"".join(_marshal_stanza(s) for s in stanzas) + MAC_MARK


def marshal_header(stanzas: Iterable[Stanza], mac: bytes) -> bytes:
    """Encode a complete header, ending with the MAC line and its newline.

    :raises ValueError: if a stanza is invalid or ``mac`` is not 32 bytes.
    """
    if len(mac) != MAC_SIZE:
        raise ValueError("header MAC must be 32 bytes")
    return marshal_header_without_mac(stanzas) + b" " + b64encode(mac).encode("ascii") + b"\n"


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    """Compute the header MAC: HMAC-SHA-256 keyed with HKDF(file key, "", "header").

    :param file_key: the 16-byte file key.
    :param mac_input: the header up to and including ``---``.
    """
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)
    return hmac.new(key, mac_input, hashlib.sha256).digest()


class _LineReader:
    """Reads header lines within the size budget, never past the end of the header."""

    def __init__(self, source: t.BinaryIO) -> None:
        self._source = source
        self.raw: list[bytes] = []
        self.consumed = 0

    def readline(self) -> bytes:
        limit = min(MAX_LINE_SIZE, MAX_HEADER_SIZE - self.consumed)
        if limit <= 0:
            raise HeaderError("header is larger than 64 KiB")
        # readline(limit) stops at LF, so the payload that follows the header is left unread.
        line = self._source.readline(limit)
        self.consumed += len(line)
        self.raw.append(line)
        if not line.endswith(b"\n"):
            if len(line) == limit:
                raise HeaderError("header line too long, or header larger than 64 KiB")
            raise HeaderError("file ends inside the header" if self.consumed else "file is empty")
        return line


def _parse_args(line: bytes) -> tuple[str, ...]:
    words = line[len(STANZA_PREFIX) : -1].decode("ascii", "replace").split(" ")
    if not all(is_valid_argument(word) for word in words):
        raise HeaderError("malformed stanza argument line")
    return tuple(words)


def _parse_body(lines: _LineReader) -> bytes:
    body = []
    while True:
        line = lines.readline()[:-1]
        if len(line) > COLUMNS_PER_LINE:
            raise HeaderError("stanza body line longer than 64 columns")
        if line.startswith((MAC_MARK, STANZA_PREFIX[:2])):
            raise HeaderError("stanza body does not end with a short line")
        body.append(b64decode(line.decode("ascii", "replace")))
        if len(line) < COLUMNS_PER_LINE:
            return b"".join(body)


def _parse_mac(line: bytes) -> bytes:
    if len(line) != _FOOTER_SIZE or not line.startswith(FOOTER_PREFIX):
        raise HeaderError("malformed header MAC line")
    return b64decode(line[len(FOOTER_PREFIX) : -1].decode("ascii", "replace"))


def parse_header(source: t.BinaryIO) -> ParsedHeader:
    """Read an age v1 header, leaving ``source`` at the first byte after it.

    The header is only checked for syntax here; authenticate it with :func:`header_mac` once
    an identity has unwrapped the file key.

    :param source: a binary file object positioned at the start of the header.
    :raises HeaderError: if the header is malformed, truncated or over a limit.
    """
    lines = _LineReader(source)
    if lines.readline() != VERSION_LINE:
        raise HeaderError("not an age v1 file: unexpected version line")
    stanzas: list[Stanza] = []
    while True:
        line = lines.readline()
        if line.startswith(MAC_MARK):
            mac = _parse_mac(line)
            break
        if not line.startswith(STANZA_PREFIX):
            raise HeaderError("malformed stanza: expected '-> ' or '--- '")
        if len(stanzas) == MAX_STANZAS:
            raise HeaderError(f"header has more than {MAX_STANZAS} stanzas")
        words = _parse_args(line)
        stanzas.append(Stanza(words[0], words[1:], _parse_body(lines)))
    if not stanzas:
        raise HeaderError("header has no recipient stanzas")
    # The grammar is strict, so these raw bytes equal the re-encoded header age would MAC.
    mac_input = b"".join(lines.raw[:-1]) + MAC_MARK
    return ParsedHeader(tuple(stanzas), mac, mac_input, lines.consumed)

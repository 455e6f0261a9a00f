"""The header: canonical base64, marshal/parse round trips and a wall of malformed headers."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest

from secureserver.crypto import format as fmt
from secureserver.crypto.errors import DecryptionError
from secureserver.crypto.errors import HeaderError
from secureserver.crypto.format import Stanza

# The example header of C2SP age, "Header".
SPEC_HEADER = (
    b"age-encryption.org/v1\n"
    b"-> X25519 XEl0dJ6y3C7KZkgmgWUicg63EyXJiwBJW8PdYJ/cYBE\n"
    b"qRS0AMjdjPvZ/WT08U2KL4G+PIooA3hy38SvLpvaC1E\n"
    b"--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n"
)
SHARE = "XEl0dJ6y3C7KZkgmgWUicg63EyXJiwBJW8PdYJ/cYBE"
BODY_LINE = b"qRS0AMjdjPvZ/WT08U2KL4G+PIooA3hy38SvLpvaC1E"
MAC_LINE = b"--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n"
V1 = b"age-encryption.org/v1\n"
FULL_LINE = b"A" * 64


def parse(data: bytes) -> fmt.ParsedHeader:
    return fmt.parse_header(io.BytesIO(data))


# -- canonical base64 ------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(70))
def test_b64_round_trip(size: int) -> None:
    data = os.urandom(size)
    encoded = fmt.b64encode(data)
    assert "=" not in encoded
    assert encoded == base64.b64encode(data).decode().rstrip("=")
    assert fmt.b64decode(encoded) == data


@pytest.mark.parametrize(
    "text",
    [
        "AA==",  # padding
        "AAA=",  # padding
        "AB",  # trailing bits set: non-canonical spelling of b"\x00"
        "AAB",  # trailing bits set
        "A",  # impossible length
        "AAAAA",  # impossible length
        "AA\n",  # newline
        "AA\r",  # carriage return
        " AA",  # whitespace
        "A A",  # whitespace
        "AA\t",  # tab
        "A-",  # URL-safe alphabet
        "A_",  # URL-safe alphabet
        "AÀ",  # non-ASCII
        "AA\x00",  # NUL
    ],
)
def test_b64_rejects_non_canonical(text: str) -> None:
    with pytest.raises(HeaderError):
        fmt.b64decode(text)


# -- marshal / parse -------------------------------------------------------------------------


@pytest.mark.parametrize("body_size", [0, 1, 47, 48, 49, 96, 100, 1000])
def test_round_trip(body_size: int) -> None:
    stanzas = [
        Stanza("X25519", (fmt.b64encode(os.urandom(32)),), os.urandom(body_size)),
        Stanza("example.com/other", ("a", "b!", "~"), os.urandom(body_size // 2)),
    ]
    mac = os.urandom(32)
    header = fmt.marshal_header(stanzas, mac)
    assert (
        header
        == fmt.marshal_header_without_mac(stanzas) + b" " + fmt.b64encode(mac).encode() + b"\n"
    )
    source = io.BytesIO(header + b"PAYLOAD")
    parsed = fmt.parse_header(source)
    assert parsed.stanzas == tuple(stanzas)
    assert parsed.mac == mac
    assert parsed.mac_input == fmt.marshal_header_without_mac(stanzas)
    assert parsed.size == len(header)
    assert source.read() == b"PAYLOAD"


@pytest.mark.parametrize(
    ("body_size", "line_lengths"),
    [(0, [0]), (1, [2]), (47, [63]), (48, [64, 0]), (49, [64, 2]), (96, [64, 64, 0])],
)
def test_body_is_wrapped_at_64_columns_and_ends_short(
    body_size: int, line_lengths: list[int]
) -> None:
    encoded = fmt.marshal_header_without_mac([Stanza("t", (), bytes(body_size))])
    assert encoded.startswith(V1 + b"-> t\n")
    assert encoded.endswith(b"\n---")
    body_lines = encoded.split(b"\n")[2:-1]
    assert [len(line) for line in body_lines] == line_lengths


def test_parses_spec_example() -> None:
    parsed = parse(SPEC_HEADER)
    assert parsed.stanzas == (
        Stanza(
            "X25519",
            (SHARE,),
            base64.b64decode(BODY_LINE + b"="),
        ),
    )
    assert parsed.mac_input == SPEC_HEADER[: SPEC_HEADER.rindex(b"---") + 3]
    assert fmt.marshal_header(parsed.stanzas, parsed.mac) == SPEC_HEADER


def test_header_mac_matches_rfc_5869_and_2104() -> None:
    import hashlib
    import hmac

    file_key = bytes(range(16))
    prk = hmac.new(b"", file_key, hashlib.sha256).digest()  # HKDF-Extract, empty salt
    key = hmac.new(prk, b"header\x01", hashlib.sha256).digest()  # HKDF-Expand, one block
    expected = hmac.new(key, SPEC_HEADER[:-45], hashlib.sha256).digest()
    assert fmt.header_mac(file_key, SPEC_HEADER[:-45]) == expected


@pytest.mark.parametrize("buffering", [0, -1])
def test_parse_leaves_a_file_at_the_payload(tmp_path: Path, buffering: int) -> None:
    path = tmp_path / "blob"
    path.write_bytes(SPEC_HEADER + b"\x00payload\n--- more")
    with open(path, "rb", buffering=buffering) as f:
        parsed = fmt.parse_header(f)
        assert f.tell() == parsed.size == len(SPEC_HEADER)
        assert f.read() == b"\x00payload\n--- more"


def test_parse_accepts_unknown_stanzas_and_long_arguments() -> None:
    long_arg = "A" * 1494  # the size of an mlkem768x25519 share
    header = V1 + b"-> mlkem768x25519 " + long_arg.encode() + b"\n\n" + MAC_LINE
    assert parse(header).stanzas == (Stanza("mlkem768x25519", (long_arg,), b""),)


def test_marshal_rejects_invalid_arguments() -> None:
    for bad in [Stanza("", (), b""), Stanza("a b", (), b""), Stanza("t", ("",), b""),
                Stanza("t", ("é",), b""), Stanza("t", ("a\n",), b"")]:  # fmt: skip
        with pytest.raises(ValueError, match="visible ASCII"):
            fmt.marshal_header_without_mac([bad])
    with pytest.raises(ValueError, match="32 bytes"):
        fmt.marshal_header([Stanza("t", (), b"")], b"short")


# -- malformed headers -----------------------------------------------------------------------

STANZA = b"-> X25519 " + SHARE.encode() + b"\n" + BODY_LINE + b"\n"

MALFORMED = {
    "empty file": b"",
    "no newline after version": b"age-encryption.org/v1",
    "other version": b"age-encryption.org/v2\n" + STANZA + MAC_LINE,
    "version with CRLF": b"age-encryption.org/v1\r\n" + STANZA + MAC_LINE,
    "version with space": b"age-encryption.org/v1 \n" + STANZA + MAC_LINE,
    "not age": b"-----BEGIN AGE ENCRYPTED FILE-----\n",
    "no stanzas": V1 + MAC_LINE,
    "stanza without space": V1
    + b"->X25519 "
    + SHARE.encode()
    + b"\n"
    + BODY_LINE
    + b"\n"
    + MAC_LINE,
    "stanza without arguments": V1 + b"->\n\n" + MAC_LINE,
    "stanza with empty argument list": V1 + b"-> \n\n" + MAC_LINE,
    "double space": V1 + b"-> X25519  " + SHARE.encode() + b"\n" + BODY_LINE + b"\n" + MAC_LINE,
    "trailing space": V1 + b"-> X25519 " + SHARE.encode() + b" \n" + BODY_LINE + b"\n" + MAC_LINE,
    "tab in arguments": V1 + b"-> a\tb\n\n" + MAC_LINE,
    "DEL in arguments": V1 + b"-> a\x7f\n\n" + MAC_LINE,
    "non-ASCII argument": V1 + "-> é\n\n".encode() + MAC_LINE,
    "CR in arguments": V1 + b"-> a\r\n\n" + MAC_LINE,
    "unknown line": V1 + b"=> a\n\n" + MAC_LINE,
    "body line too long": V1 + b"-> a\n" + b"A" * 65 + b"\n\n" + MAC_LINE,
    "body without short line": V1 + b"-> a\n" + FULL_LINE + b"\n" + MAC_LINE,
    "body then new stanza": V1 + b"-> a\n" + FULL_LINE + b"\n" + STANZA + MAC_LINE,
    "body with padding": V1 + b"-> a\nAA==\n" + MAC_LINE,
    "body non-canonical": V1 + b"-> a\nAB\n" + MAC_LINE,
    "body with space": V1 + b"-> a\nAA AA\n" + MAC_LINE,
    "body with CR": V1 + b"-> a\nAAAA\r\n" + MAC_LINE,
    "body impossible length": V1 + b"-> a\nAAAAA\n" + MAC_LINE,
    "body missing": V1 + b"-> a\n" + MAC_LINE,
    "MAC mark alone": V1 + STANZA + b"---\n",
    "MAC empty": V1 + STANZA + b"--- \n",
    "MAC two spaces": V1 + STANZA + b"---  " + MAC_LINE[4:],
    "MAC short": V1 + STANZA + MAC_LINE[:-2] + b"\n",
    "MAC long": V1 + STANZA + MAC_LINE[:-1] + b"A\n",
    "MAC padded": V1 + STANZA + MAC_LINE[:-1] + b"=\n",
    "MAC non-canonical": V1 + STANZA + MAC_LINE[:-2] + b"t\n",
    "MAC extra argument": V1 + STANZA + MAC_LINE[:-1] + b" x\n",
    "MAC without newline": V1 + STANZA + MAC_LINE[:-1],
    "MAC with CRLF": V1 + STANZA + MAC_LINE[:-1] + b"\r\n",
    "MAC dashes": V1 + STANZA + b"---- " + MAC_LINE[4:],
    "line too long": V1 + b"-> " + b"a" * 5000 + b"\n\n" + MAC_LINE,
    "header too large": V1 + (b"-> a " + b"b" * 4000 + b"\n\n") * 20 + MAC_LINE,
    "too many stanzas": V1 + b"-> a\n\n" * (fmt.MAX_STANZAS + 1) + MAC_LINE,
    "binary garbage": os.urandom(4096),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_headers_rejected(data: bytes) -> None:
    with pytest.raises(HeaderError):
        parse(data)


def test_header_error_is_a_decryption_error() -> None:
    assert issubclass(HeaderError, DecryptionError)


def test_every_truncation_rejected() -> None:
    for end in range(len(SPEC_HEADER)):
        with pytest.raises(HeaderError):
            parse(SPEC_HEADER[:end])


def test_many_stanzas_up_to_the_limit_accepted() -> None:
    header = V1 + b"-> a\n\n" * fmt.MAX_STANZAS + MAC_LINE
    assert len(parse(header).stanzas) == fmt.MAX_STANZAS


def test_header_at_the_size_limit_accepted() -> None:
    # Fill the header to exactly MAX_HEADER_SIZE with 4000-column argument lines.
    filler = fmt.MAX_HEADER_SIZE - len(V1) - len(MAC_LINE)
    stanzas = []
    while filler:
        arg = min(4000, filler - len(b"-> \n\n"))
        stanzas.append(b"-> " + b"a" * arg + b"\n\n")
        filler -= len(stanzas[-1])
    header = V1 + b"".join(stanzas) + MAC_LINE
    assert len(header) == fmt.MAX_HEADER_SIZE
    assert parse(header).size == fmt.MAX_HEADER_SIZE
    with pytest.raises(HeaderError, match="64 KiB"):
        parse(V1 + b"-> a\n\n" + b"".join(stanzas) + MAC_LINE)

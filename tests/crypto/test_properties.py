"""Property tests: round trips for any data and split, and parsers that fail only cleanly."""

from __future__ import annotations

import io
import random

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from secureserver.crypto import bech32
from secureserver.crypto import format as fmt
from secureserver.crypto.errors import DecryptionError
from secureserver.crypto.errors import HeaderError
from secureserver.crypto.stream import CHUNK_SIZE
from secureserver.crypto.stream import DecryptReader
from secureserver.crypto.stream import EncryptWriter

# No example database: it would be written into the working tree.
SETTINGS = settings(
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
KEY = bytes(range(32))
VALID_HEADER = (
    b"age-encryption.org/v1\n"
    b"-> X25519 XEl0dJ6y3C7KZkgmgWUicg63EyXJiwBJW8PdYJ/cYBE\n"
    b"qRS0AMjdjPvZ/WT08U2KL4G+PIooA3hy38SvLpvaC1E\n"
    b"--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n"
)


@SETTINGS
@given(
    size=st.one_of(st.integers(0, 300), st.integers(CHUNK_SIZE - 3, 3 * CHUNK_SIZE + 3)),
    splits=st.lists(st.integers(1, 2 * CHUNK_SIZE + 5), min_size=1, max_size=8),
    seed=st.integers(0, 2**32),
)
def test_stream_round_trip_for_any_split(size: int, splits: list[int], seed: int) -> None:
    plaintext = random.Random(seed).randbytes(size)
    sink = io.BytesIO()
    writer = EncryptWriter(sink, KEY)
    pos, i = 0, 0
    while pos < size:
        writer.write(plaintext[pos : pos + splits[i % len(splits)]])
        pos += splits[i % len(splits)]
        i += 1
    writer.close()
    payload = sink.getvalue()
    reader = DecryptReader(io.BytesIO(payload), KEY, 0, len(payload))
    assert b"".join(reader.chunks()) == plaintext


@SETTINGS
@given(st.binary(max_size=600))
def test_parser_fails_only_with_header_error_on_noise(data: bytes) -> None:
    try:
        parsed = fmt.parse_header(io.BytesIO(data))
    except HeaderError:
        return
    assert parsed.size <= len(data)


@SETTINGS
@given(st.integers(0, len(VALID_HEADER) - 1), st.integers(0, 255), st.binary(max_size=40))
def test_parser_fails_only_with_header_error_on_mutations(pos: int, byte: int, tail: bytes) -> None:
    data = VALID_HEADER[:pos] + bytes([byte]) + VALID_HEADER[pos + 1 :] + tail
    source = io.BytesIO(data)
    try:
        parsed = fmt.parse_header(source)
    except DecryptionError:
        return
    # Whatever was accepted re-encodes to exactly the bytes that were read.
    assert fmt.marshal_header(parsed.stanzas, parsed.mac) == data[: parsed.size]
    assert source.tell() == parsed.size


@SETTINGS
@given(st.text(alphabet="ABCab01+/=-_ \n\xe9", max_size=12))
def test_b64decode_accepts_only_canonical(text: str) -> None:
    try:
        decoded = fmt.b64decode(text)
    except HeaderError:
        return
    assert fmt.b64encode(decoded) == text


@SETTINGS
@given(st.binary(max_size=80), st.sampled_from(["age", "AGE-SECRET-KEY-", "x"]))
def test_bech32_round_trip(data: bytes, hrp: str) -> None:
    assert bech32.decode(bech32.encode(hrp, data)) == (hrp, data)


@SETTINGS
@given(st.text(max_size=80))
def test_bech32_fails_only_with_bech32_error(text: str) -> None:
    try:
        hrp, data = bech32.decode(text)
    except bech32.Bech32Error:
        return
    assert bech32.encode(hrp, data) == text

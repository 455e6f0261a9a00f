"""The STREAM payload: known answers, chunk boundaries, random access and every tampering."""

from __future__ import annotations

import array
import hashlib
import hmac
import io
import itertools
import typing as t

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secureserver.crypto import stream
from secureserver.crypto.errors import DecryptionError
from secureserver.crypto.errors import EncryptionError
from secureserver.crypto.stream import CHUNK_SIZE
from secureserver.crypto.stream import ENCRYPTED_CHUNK_SIZE
from secureserver.crypto.stream import DecryptReader
from secureserver.crypto.stream import EncryptWriter

KEY = bytes(range(32))
MIB = 1024 * 1024
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 1, 3 * MIB + 7]


def pattern(size: int) -> bytes:
    """Deterministic, non-repeating-per-chunk plaintext."""
    blocks = (hashlib.sha256(i.to_bytes(8, "big")).digest() for i in itertools.count())
    return b"".join(itertools.islice(blocks, -(-size // 32)))[:size]


def seal(data: bytes | memoryview, piece: int | t.Sequence[int] | None = None) -> bytes:
    sink = io.BytesIO()
    writer = EncryptWriter(sink, KEY)
    sizes = itertools.cycle([piece] if isinstance(piece, int) else piece or [len(data) or 1])
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        size = next(sizes)
        writer.write(view[pos : pos + size])
        pos += size
    writer.close()
    return sink.getvalue()


def open_chunks(payload: bytes, start: int = 0, size: int | None = None) -> t.Iterator[bytes]:
    source = io.BytesIO(payload)
    return DecryptReader(source, KEY, 0, len(payload) if size is None else size).chunks(start)


def split(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]


# -- known answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "nonces"),
    [
        (0, [bytes(11) + b"\x01"]),
        (100, [bytes(11) + b"\x01"]),
        (CHUNK_SIZE, [bytes(11) + b"\x01"]),
        (CHUNK_SIZE + 1, [bytes(11) + b"\x00", bytes(10) + b"\x01\x01"]),
        (2 * CHUNK_SIZE, [bytes(11) + b"\x00", bytes(10) + b"\x01\x01"]),
        (
            2 * CHUNK_SIZE + 100,
            [bytes(11) + b"\x00", bytes(10) + b"\x01\x00", bytes(10) + b"\x02\x01"],
        ),
    ],
)
def test_known_answer_from_raw_aead(size: int, nonces: list[bytes]) -> None:
    plaintext = pattern(size)
    aead = ChaCha20Poly1305(KEY)
    expected = b"".join(
        aead.encrypt(n, c, None) for n, c in zip(nonces, split(plaintext), strict=True)
    )
    assert seal(plaintext) == expected
    assert seal(plaintext, 1000) == expected
    assert b"".join(open_chunks(expected)) == plaintext


def test_known_answer_digest() -> None:
    payload = seal(pattern(200_000))
    assert len(payload) == 200_000 + 4 * 16
    assert hashlib.sha256(payload).hexdigest() == (
        "0c90876e73e034f01a7071b2f9f8bf3697ef1e695a78369fdb1d6de9ee96e1c2"
    )


def test_payload_key_matches_rfc_5869() -> None:
    file_key, nonce = bytes(range(16)), bytes(range(16, 32))
    prk = hmac.new(nonce, file_key, hashlib.sha256).digest()
    expected = hmac.new(prk, b"payload\x01", hashlib.sha256).digest()
    assert stream.payload_key(file_key, nonce) == expected


@pytest.mark.parametrize(("file_key", "nonce"), [(bytes(15), bytes(16)), (bytes(16), bytes(17))])
def test_payload_key_sizes(file_key: bytes, nonce: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        stream.payload_key(file_key, nonce)


def test_chunk_nonce() -> None:
    assert stream.chunk_nonce(0, False) == bytes(12)
    assert stream.chunk_nonce(0, True) == bytes(11) + b"\x01"
    assert stream.chunk_nonce(0x0102, True) == bytes(9) + b"\x01\x02\x01"
    assert stream.chunk_nonce(2**88 - 1, False) == b"\xff" * 11 + b"\x00"
    for counter in (2**88, -1):
        with pytest.raises(OverflowError):
            stream.chunk_nonce(counter, False)


# -- sizes -----------------------------------------------------------------------------------

VALID_SIZES = [(16, 0), (17, 1), (ENCRYPTED_CHUNK_SIZE, CHUNK_SIZE),
               (ENCRYPTED_CHUNK_SIZE + 17, CHUNK_SIZE + 1),
               (3 * ENCRYPTED_CHUNK_SIZE, 3 * CHUNK_SIZE)]  # fmt: skip
INVALID_SIZES = [0, 1, 15, ENCRYPTED_CHUNK_SIZE + 1, ENCRYPTED_CHUNK_SIZE + 16,
                 2 * ENCRYPTED_CHUNK_SIZE + 5]  # fmt: skip


@pytest.mark.parametrize(("payload", "plain"), VALID_SIZES)
def test_size_arithmetic(payload: int, plain: int) -> None:
    assert stream.plaintext_size(payload) == plain
    assert stream.encrypted_size(plain) == payload


@pytest.mark.parametrize("payload", INVALID_SIZES)
def test_impossible_payload_sizes(payload: int) -> None:
    with pytest.raises(DecryptionError, match="invalid payload size"):
        stream.plaintext_size(payload)
    with pytest.raises(DecryptionError):
        DecryptReader(io.BytesIO(bytes(payload)), KEY, 0, payload)


def test_chunk_index_and_negative_sizes() -> None:
    assert [stream.chunk_index(o) for o in (0, CHUNK_SIZE - 1, CHUNK_SIZE, 10**9)] == [
        0, 0, 1, 10**9 // CHUNK_SIZE,
    ]  # fmt: skip
    with pytest.raises(ValueError):
        stream.chunk_index(-1)
    with pytest.raises(ValueError):
        stream.encrypted_size(-1)


# -- round trips -----------------------------------------------------------------------------

PIECES: dict[str, int | list[int] | None] = {
    "one write": None,
    "1 byte": 1,
    "1000": 1000,
    "65536": 65536,
    "1 MiB": MIB,
    "mixed": [1, 65535, 65537, 7, MIB, 65536, 3],
}


# One-byte writes of megabytes would only measure Python call overhead.
ROUND_TRIPS = [
    pytest.param(size, piece, id=f"{size}-{name}")
    for size in SIZES
    for name, piece in PIECES.items()
    if not (piece == 1 and size > 3 * 65536 + 1)
]


@pytest.mark.parametrize(("size", "piece"), ROUND_TRIPS)
def test_round_trip(size: int, piece: int | list[int] | None) -> None:
    plaintext = pattern(size)
    payload = seal(plaintext, piece)
    assert len(payload) == stream.encrypted_size(size)
    assert payload == seal(plaintext)  # deterministic: the split must not matter
    chunks = list(open_chunks(payload))
    assert chunks == split(plaintext)
    # Only the empty file ends with an empty chunk.
    assert chunks[-1] or size == 0


@pytest.mark.parametrize("size", SIZES[:-1])
def test_decrypt_from_every_chunk(size: int) -> None:
    plaintext = pattern(size)
    payload = seal(plaintext)
    count = len(split(plaintext))
    for start in range(count):
        assert b"".join(open_chunks(payload, start)) == plaintext[start * CHUNK_SIZE :]
    for start in (-1, count):
        with pytest.raises(ValueError, match="start_chunk"):
            open_chunks(payload, start)  # raised at once, not on the first next()


def test_accepts_bytearray_and_non_byte_memoryview() -> None:
    numbers = array.array("I", range(40_000))
    raw = numbers.tobytes()
    sink = io.BytesIO()
    writer = EncryptWriter(sink, KEY)
    assert writer.write(memoryview(numbers)) == len(raw)
    assert writer.write(bytearray(b"tail")) == 4
    writer.close()
    assert b"".join(open_chunks(sink.getvalue())) == raw + b"tail"


def test_full_chunk_is_held_back_until_more_data() -> None:
    sink = io.BytesIO()
    writer = EncryptWriter(sink, KEY)
    writer.write(bytes(CHUNK_SIZE))
    assert sink.tell() == 0  # it might be the last chunk
    writer.write(b"x")
    assert sink.tell() == ENCRYPTED_CHUNK_SIZE
    writer.close()
    assert sink.tell() == ENCRYPTED_CHUNK_SIZE + 17


def test_short_writes_to_sink_are_completed() -> None:
    class Trickle(io.BytesIO):
        def write(self, data: t.Any) -> int:
            return super().write(bytes(data)[:1000])

    plaintext = pattern(3 * CHUNK_SIZE + 5)
    sink = Trickle()
    writer = EncryptWriter(sink, KEY)
    writer.write(plaintext)
    writer.close()
    assert sink.getvalue() == seal(plaintext)


def test_errors_stick_and_close_keeps_sink_open() -> None:
    class Failing(io.BytesIO):
        def write(self, data: t.Any) -> int:
            if self.tell() > 0:
                raise OSError("disk full")
            return super().write(data)

    writer = EncryptWriter(Failing(), KEY)
    writer.write(bytes(CHUNK_SIZE + 1))  # the first chunk goes out
    with pytest.raises(OSError, match="disk full"):
        writer.write(bytes(CHUNK_SIZE))
    with pytest.raises(EncryptionError):
        writer.write(b"x")
    with pytest.raises(EncryptionError):
        writer.close()

    sink = io.BytesIO()
    writer = EncryptWriter(sink, KEY)
    writer.close()
    writer.close()  # harmless
    assert not sink.closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"x")


# -- tampering -------------------------------------------------------------------------------

PLAINTEXT = pattern(3 * CHUNK_SIZE + 100)
PAYLOAD = seal(PLAINTEXT)
CHUNKS = split(PLAINTEXT)
SEALED = [
    PAYLOAD[i : i + ENCRYPTED_CHUNK_SIZE] for i in range(0, len(PAYLOAD), ENCRYPTED_CHUNK_SIZE)
]


def yielded_before_error(payload: bytes, size: int | None = None) -> list[bytes]:
    """Collect the chunks a reader yields before it fails; it must fail."""
    out: list[bytes] = []
    with pytest.raises(DecryptionError):
        for chunk in open_chunks(payload, size=size):
            out.append(chunk)
    return out


def flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


@pytest.mark.parametrize("index", range(len(SEALED)))
@pytest.mark.parametrize("where", ["first byte", "middle", "last ciphertext byte", "tag"])
def test_flipped_bit_stops_at_that_chunk(index: int, where: str) -> None:
    length = len(SEALED[index])
    offset = {"first byte": 0, "middle": length // 2, "last ciphertext byte": length - 17,
              "tag": length - 1}[where]  # fmt: skip
    tampered = flip(PAYLOAD, index * ENCRYPTED_CHUNK_SIZE + offset)
    # Never yields unauthenticated data: exactly the chunks before the tampered one.
    assert yielded_before_error(tampered) == CHUNKS[:index]


@pytest.mark.parametrize(
    ("cut", "good_chunks"),
    [
        (1, 3),
        (16, 3),
        (100, None),  # the final chunk loses all its plaintext: size becomes impossible
        (116, 2),  # the whole final chunk: the last full chunk is not marked final
        (117, 2),
        (ENCRYPTED_CHUNK_SIZE + 116, 1),  # two chunks missing
        (len(PAYLOAD) - 1, None),
    ],
)
def test_truncation(cut: int, good_chunks: int | None) -> None:
    truncated = PAYLOAD[:-cut]
    if good_chunks is None:
        with pytest.raises(DecryptionError, match="invalid payload size"):
            DecryptReader(io.BytesIO(truncated), KEY, 0, len(truncated))
    else:
        assert yielded_before_error(truncated) == CHUNKS[:good_chunks]


def test_missing_final_chunk_at_boundary_of_full_chunks() -> None:
    payload = seal(pattern(3 * CHUNK_SIZE))  # the third chunk is full and final
    assert (
        yielded_before_error(payload[:-ENCRYPTED_CHUNK_SIZE]) == split(pattern(2 * CHUNK_SIZE))[:1]
    )


@pytest.mark.parametrize("extra", [b"\x00", bytes(16), bytes(17), SEALED[0]])
def test_appended_data(extra: bytes) -> None:
    # With the size taken from the file, extra bytes shift where the final chunk is.
    out: list[bytes] = []
    with pytest.raises(DecryptionError):
        out.extend(open_chunks(PAYLOAD + extra))
    assert out == CHUNKS[: len(out)]
    # With the original size, the reader notices that the file goes on.
    assert yielded_before_error(PAYLOAD + extra, size=len(PAYLOAD)) == CHUNKS[:3]


@pytest.mark.parametrize(
    ("order", "good_chunks"),
    [((1, 0, 2, 3), 0), ((0, 2, 1, 3), 1), ((0, 0, 1, 2, 3), 1), ((0, 1, 2, 2, 3), 3),
     ((0, 1, 3, 2), 2), ((0, 1, 3), 2)],
)  # fmt: skip
def test_reordered_or_duplicated_chunks(order: tuple[int, ...], good_chunks: int) -> None:
    assert yielded_before_error(b"".join(SEALED[i] for i in order)) == CHUNKS[:good_chunks]


def test_final_flag_is_enforced_on_every_chunk() -> None:
    aead = ChaCha20Poly1305(KEY)
    two = split(pattern(2 * CHUNK_SIZE))
    # A full first chunk sealed as final, then another final chunk: strict by position.
    payload = aead.encrypt(stream.chunk_nonce(0, True), two[0], None) + aead.encrypt(
        stream.chunk_nonce(1, True), two[1], None
    )
    assert yielded_before_error(payload) == []
    # A lone full chunk sealed as non-final: the message never ends.
    assert yielded_before_error(aead.encrypt(stream.chunk_nonce(0, False), two[0], None)) == []
    # An empty final chunk after a full one is never produced, so never accepted.
    payload = aead.encrypt(stream.chunk_nonce(0, False), two[0], None) + aead.encrypt(
        stream.chunk_nonce(1, True), b"", None
    )
    with pytest.raises(DecryptionError, match="invalid payload size"):
        open_chunks(payload)


def test_empty_payload_is_one_tag() -> None:
    payload = seal(b"")
    assert len(payload) == 16
    assert list(open_chunks(payload)) == [b""]
    assert yielded_before_error(flip(payload, 3)) == []


def test_source_shrank_after_open() -> None:
    source = io.BytesIO(PAYLOAD)
    reader = DecryptReader(source, KEY, 0, len(PAYLOAD))
    source.truncate(2 * ENCRYPTED_CHUNK_SIZE + 10)
    out: list[bytes] = []
    with pytest.raises(DecryptionError, match="truncated"):
        out.extend(reader.chunks())
    assert out == CHUNKS[:2]


def test_payload_at_an_offset_and_interleaved_iterators() -> None:
    source = io.BytesIO(b"header" + PAYLOAD)
    reader = DecryptReader(source, KEY, 6, len(PAYLOAD))
    reader.verify_final_chunk()
    first, second = reader.chunks(0), reader.chunks(2)
    assert [next(first), next(second), next(first), next(second)] == [
        CHUNKS[0], CHUNKS[2], CHUNKS[1], CHUNKS[3],
    ]  # fmt: skip
    assert reader.plaintext_size == len(PLAINTEXT)
    assert reader.chunk_count == 4


def test_wrong_key() -> None:
    reader = DecryptReader(io.BytesIO(PAYLOAD), bytes(32), 0, len(PAYLOAD))
    with pytest.raises(DecryptionError, match="chunk 3 failed"):
        reader.verify_final_chunk()

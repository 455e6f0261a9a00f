"""The STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks (C2SP age, "Payload").

Chunk ``i`` is sealed under the payload key with the nonce ``i`` (11 bytes, big endian) || flag,
where the flag is 1 for the final chunk only. The final chunk may be short, but it is empty
only when the whole file is. :class:`EncryptWriter` produces that from pushed data;
:class:`DecryptReader` checks it when the payload size is known, and can start at any chunk.
"""

from __future__ import annotations

import typing as t

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DecryptionError
from .errors import EncryptionError
from .fileio import Sink
from .fileio import read_exactly
from .fileio import read_into
from .fileio import write_all

if t.TYPE_CHECKING:
    from collections.abc import Iterator

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
STREAM_NONCE_SIZE = 16
FILE_KEY_SIZE = 16

_COUNTER_LIMIT = 1 << 88
# Sealed chunks are gathered and written to the sink together, up to this many: one system
# call (and one hand-over of Python's GIL between threads) per 512 KiB instead of per 64 KiB.
WRITE_BATCH = 8
# Chunks a sequential read takes from the file at once, for the same reason.
READ_BATCH = 8
# encrypt_into (cryptography >= 47) seals into our buffer instead of a new bytes object.
_HAS_ENCRYPT_INTO = hasattr(ChaCha20Poly1305, "encrypt_into")


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """Derive the payload key: HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload").

    :raises ValueError: if the file key or the nonce is not 16 bytes.
    """
    if len(file_key) != FILE_KEY_SIZE or len(nonce) != STREAM_NONCE_SIZE:
        raise ValueError("file key and payload nonce must be 16 bytes each")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"payload").derive(file_key)


def chunk_nonce(counter: int, last: bool) -> bytes:
    """Build the 12-byte nonce of chunk ``counter``.

    :raises OverflowError: if the counter does not fit in 88 bits.
    """
    if not 0 <= counter < _COUNTER_LIMIT:
        raise OverflowError("STREAM chunk counter out of range")
    return (counter << 8 | last).to_bytes(12, "big")


def _chunk_count(payload_size: int) -> int:
    full, rest = divmod(payload_size, ENCRYPTED_CHUNK_SIZE)
    if rest == 0 and full > 0:
        return full
    if rest == TAG_SIZE and full == 0:
        return 1  # the empty file: one empty final chunk
    if rest <= TAG_SIZE:
        # An empty final chunk after others, or less than a tag: no encoder writes this.
        raise DecryptionError(f"invalid payload size {payload_size}: truncated or padded")
    return full + 1


def plaintext_size(payload_size: int) -> int:
    """Return the plaintext size of a payload of ``payload_size`` bytes after the nonce.

    :raises DecryptionError: if no valid payload has that size.
    """
    return payload_size - _chunk_count(payload_size) * TAG_SIZE


def encrypted_size(plaintext_size: int) -> int:
    """Return the payload size, after the nonce, of ``plaintext_size`` bytes of plaintext."""
    if plaintext_size < 0:
        raise ValueError("plaintext size must not be negative")
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return plaintext_size + chunks * TAG_SIZE


def chunk_index(offset: int) -> int:
    """Return the index of the chunk that holds plaintext byte ``offset``."""
    if offset < 0:
        raise ValueError("offset must not be negative")
    return offset // CHUNK_SIZE


class EncryptWriter:
    """Encrypt pushed plaintext into the STREAM payload, chunk by chunk.

    The sink must be done with each buffer when ``write`` returns (files and ``BytesIO``
    copy): the chunks sealed by one call are written from one buffer that the next call
    reuses. Every chunk known not to be the last has reached the sink when ``write`` returns.

    :param sink: receives the ciphertext; it is never closed here.
    :param key: the 32-byte payload key, see :func:`payload_key`.
    """

    def __init__(self, sink: Sink, key: bytes) -> None:
        self._sink = sink
        self._aead = ChaCha20Poly1305(key)
        self._pending = memoryview(bytearray(CHUNK_SIZE))
        self._pending_size = 0
        self._out = memoryview(bytearray(WRITE_BATCH * ENCRYPTED_CHUNK_SIZE))
        self._out_size = 0
        self._counter = 0
        self._error: BaseException | None = None
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt ``data``, writing every chunk that is known not to be the last.

        Nothing refers to ``data`` after this returns, so the caller may reuse its buffer.

        :return: the number of bytes taken, always all of them.
        :raises EncryptionError: if an earlier write failed.
        :raises ValueError: if the writer is closed.
        """
        self._check_usable()
        with memoryview(data) as view, view.cast("B") as octets:
            try:
                self._write(octets)
                self._flush()
            except BaseException as e:
                self._error = e
                raise
            return len(octets)

    def close(self) -> None:
        """Seal the final chunk. The sink stays open; closing twice is harmless.

        :raises EncryptionError: if an earlier write failed.
        """
        if self.closed:
            return
        self._check_usable()
        try:
            self._seal(self._pending[: self._pending_size], last=True)
            self._flush()
        except BaseException as e:
            self._error = e
            raise
        self.closed = True

    def _check_usable(self) -> None:
        if self._error is not None:
            raise EncryptionError("an earlier write failed; the output is incomplete")
        if self.closed:
            raise ValueError("write to a closed EncryptWriter")

    def _write(self, octets: memoryview) -> None:
        size = len(octets)
        pos = 0
        if self._pending_size:
            pos = min(CHUNK_SIZE - self._pending_size, size)
            self._pending[self._pending_size : self._pending_size + pos] = octets[:pos]
            self._pending_size += pos
            if pos == size:
                return
            # More bytes follow, so the pending chunk is full and is not the last one.
            self._seal(self._pending, last=False)
            self._pending_size = 0
        # Seal straight from the caller's buffer, but hold back the tail, even a full chunk:
        # only a later write or close() tells whether it is the last chunk, and the last
        # chunk must not be empty unless the whole file is.
        while size - pos > CHUNK_SIZE:
            self._seal(octets[pos : pos + CHUNK_SIZE], last=False)
            pos += CHUNK_SIZE
        self._pending[: size - pos] = octets[pos:]
        self._pending_size = size - pos

    def _seal(self, plaintext: memoryview, last: bool) -> None:
        if self._out_size + len(plaintext) + TAG_SIZE > len(self._out):
            self._flush()
        nonce = chunk_nonce(self._counter, last)
        end = self._out_size + len(plaintext) + TAG_SIZE
        if _HAS_ENCRYPT_INTO:
            self._aead.encrypt_into(nonce, plaintext, None, self._out[self._out_size : end])
        else:  # pragma: no cover - cryptography < 47
            self._out[self._out_size : end] = self._aead.encrypt(nonce, plaintext, None)
        self._out_size = end
        self._counter += 1

    def _flush(self) -> None:
        """Write the sealed chunks gathered so far; each write() ends with this."""
        if self._out_size:
            size, self._out_size = self._out_size, 0
            write_all(self._sink, self._out[:size])


class DecryptReader:
    """Decrypt a STREAM payload of known size from a seekable source, from any chunk on.

    :param source: a seekable binary file; its position does not matter.
    :param key: the 32-byte payload key, see :func:`payload_key`.
    :param payload_start: the offset of the first chunk, just after the payload nonce.
    :param payload_size: the number of bytes from there to the end of the file.
    :raises DecryptionError: if no valid payload has that size.
    """

    def __init__(
        self, source: t.BinaryIO, key: bytes, payload_start: int, payload_size: int
    ) -> None:
        self._chunk_count = _chunk_count(payload_size)
        self._source = source
        self._aead = ChaCha20Poly1305(key)
        self._start = payload_start
        self._size = payload_size
        self._final: bytes | None = None

    @property
    def chunk_count(self) -> int:
        """The number of chunks, at least one."""
        return self._chunk_count

    @property
    def plaintext_size(self) -> int:
        """The plaintext size; authentic once :meth:`verify_final_chunk` has passed."""
        return self._size - self._chunk_count * TAG_SIZE

    def chunks(self, start_chunk: int = 0) -> Iterator[bytes]:
        """Yield the plaintext of each chunk from ``start_chunk`` on, each verified first.

        The empty file yields one empty chunk.

        :raises ValueError: at once, if ``start_chunk`` is not a chunk index.
        :raises DecryptionError: while iterating, at the first chunk that fails.
        """
        if not 0 <= start_chunk < self._chunk_count:
            raise ValueError(f"start_chunk must be in [0, {self._chunk_count})")
        return self._iter_chunks(start_chunk)

    def _iter_chunks(self, index: int) -> Iterator[bytes]:
        last = self._chunk_count - 1
        # Full chunks are read READ_BATCH at a time into a buffer of this iterator's own; the
        # final chunk goes through _open, which checks for trailing data (and may be cached).
        buffer = memoryview(bytearray(min(READ_BATCH, last - index) * ENCRYPTED_CHUNK_SIZE))
        while index < last:
            count = min(READ_BATCH, last - index)
            sealed = buffer[: count * ENCRYPTED_CHUNK_SIZE]
            # Seek every time, so that several iterators over one file do not disturb each other.
            self._source.seek(self._start + index * ENCRYPTED_CHUNK_SIZE)
            received = read_into(self._source, sealed)
            # The whole chunks that did arrive are still good, and go out first.
            for offset in range(0, received - ENCRYPTED_CHUNK_SIZE + 1, ENCRYPTED_CHUNK_SIZE):
                yield self._decrypt(index, sealed[offset : offset + ENCRYPTED_CHUNK_SIZE], False)
                index += 1
            if received != len(sealed):
                raise DecryptionError("payload is truncated: the file shrank after it was opened")
        yield self._open(last)

    def verify_final_chunk(self) -> None:
        """Authenticate the final chunk, and with it the payload size, before streaming.

        :raises DecryptionError: if the file was truncated, extended or tampered with.
        """
        self._open(self._chunk_count - 1)

    def _open(self, index: int) -> bytes:
        last = index == self._chunk_count - 1
        if last and self._final is not None:
            return self._final
        offset = index * ENCRYPTED_CHUNK_SIZE
        size = min(ENCRYPTED_CHUNK_SIZE, self._size - offset)
        # Seek every time, so that several iterators over one file do not disturb each other.
        self._source.seek(self._start + offset)
        sealed = read_exactly(self._source, size)
        if len(sealed) != size:
            raise DecryptionError("payload is truncated: the file shrank after it was opened")
        plaintext = self._decrypt(index, sealed, last)
        if last:
            if self._source.read(1):
                raise DecryptionError("trailing data after the final payload chunk")
            self._final = plaintext
        return plaintext

    def _decrypt(self, index: int, sealed: bytes | memoryview, last: bool) -> bytes:
        try:
            return self._aead.decrypt(chunk_nonce(index, last), sealed, None)
        except InvalidTag:
            kind = "final" if last else "non-final"
            raise DecryptionError(
                f"payload chunk {index} failed to authenticate as a {kind} chunk: "
                "the file is corrupted, truncated, extended or reordered"
            ) from None

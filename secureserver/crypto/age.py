"""An age v1 file: header, 16-byte payload nonce, STREAM payload (C2SP age, "Encrypted file
format").

:func:`encrypt` writes the header and nonce and returns a writer for the payload;
:func:`decrypt` authenticates the header, then the final chunk, and returns a reader that can
start at any chunk. Neither ever holds more than one chunk of the file in memory.
"""

from __future__ import annotations

import hmac
import io
import os
import typing as t

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import DecryptionError
from .fileio import Sink
from .fileio import read_exactly
from .fileio import write_all
from .format import header_mac
from .format import marshal_header
from .format import marshal_header_without_mac
from .format import parse_header
from .stream import FILE_KEY_SIZE
from .stream import STREAM_NONCE_SIZE
from .stream import DecryptReader
from .stream import EncryptWriter
from .stream import payload_key

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Sequence
    from types import TracebackType

    from .format import ParsedHeader
    from .x25519 import X25519Identity
    from .x25519 import X25519Recipient


class _AgeFile:
    """What a writer and a reader of an age file share: its header, and its file key, from
    which keys for uses outside age may be derived.

    :ivar header_mac: the 32-byte header MAC, which identifies this file's header.
    :ivar header_size: the size of the header in bytes; the payload nonce follows it.
    """

    def __init__(self, header_mac: bytes, header_size: int, file_key: bytes) -> None:
        self.header_mac = header_mac
        self.header_size = header_size
        self._file_key = file_key

    def derive_key(self, purpose: bytes) -> bytes:
        """Derive 32 bytes from the file key: HKDF-SHA-256(ikm = file key, info = purpose).

        The result is as unique to the file as its key, survives a rewrite of the header
        (new recipients, same file key), and reveals nothing about the key itself.

        :param purpose: a label unique to the use; never age's own ``header``/``payload``.
        """
        if purpose in (b"header", b"payload"):
            raise ValueError("that label belongs to age itself")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            self._file_key
        )


class AgeWriter(_AgeFile):
    """Takes the plaintext of a file being encrypted; :meth:`close` finishes it."""

    def __init__(
        self, stream: EncryptWriter, header_mac: bytes, header_size: int, file_key: bytes
    ) -> None:
        super().__init__(header_mac, header_size, file_key)
        self._stream = stream

    @property
    def closed(self) -> bool:
        """Whether the final chunk has been sealed."""
        return self._stream.closed

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt more plaintext; see :meth:`EncryptWriter.write`."""
        return self._stream.write(data)

    def close(self) -> None:
        """Seal the final chunk. The sink stays open."""
        self._stream.close()

    def __enter__(self) -> AgeWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After an error the plaintext is incomplete; sealing the final chunk now would turn
        # a truncated upload into a valid-looking file.
        if exc_type is None:
            self.close()


class AgeReader(_AgeFile):
    """The verified payload of an age file, readable chunk by chunk from any chunk."""

    def __init__(
        self, stream: DecryptReader, header_mac: bytes, header_size: int, file_key: bytes
    ) -> None:
        super().__init__(header_mac, header_size, file_key)
        self._stream = stream

    @property
    def plaintext_size(self) -> int:
        """The size of the decrypted file, authenticated by the final chunk."""
        return self._stream.plaintext_size

    @property
    def chunk_count(self) -> int:
        """The number of payload chunks, at least one."""
        return self._stream.chunk_count

    def chunks(self, start_chunk: int = 0) -> Iterator[bytes]:
        """Yield verified plaintext chunks from ``start_chunk`` on; see
        :meth:`DecryptReader.chunks`."""
        return self._stream.chunks(start_chunk)


def encrypt(
    recipients: Sequence[X25519Recipient],
    sink: Sink,
    *,
    file_key: bytes | None = None,
    nonce: bytes | None = None,
) -> AgeWriter:
    """Start an age file for ``recipients``: write its header and nonce to ``sink``.

    :param recipients: who can decrypt the file; one stanza each.
    :param sink: receives the file; see :class:`EncryptWriter` for what it must accept.
    :param file_key: only for known-answer tests; a fresh random key otherwise.
    :param nonce: only for known-answer tests; a fresh random nonce otherwise.
    :raises ValueError: if there are no recipients or a given key or nonce has the wrong size.
    """
    if not recipients:
        raise ValueError("no recipients given")
    file_key = os.urandom(FILE_KEY_SIZE) if file_key is None else file_key
    nonce = os.urandom(STREAM_NONCE_SIZE) if nonce is None else nonce
    key = payload_key(file_key, nonce)
    stanzas = [recipient.wrap(file_key) for recipient in recipients]
    mac = header_mac(file_key, marshal_header_without_mac(stanzas))
    header = marshal_header(stanzas, mac)
    write_all(sink, header + nonce)
    return AgeWriter(EncryptWriter(sink, key), mac, len(header), file_key)


def _unwrap(identities: Sequence[X25519Identity], header: ParsedHeader) -> bytes:
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            # Nothing may use the key before it has authenticated the header it came from.
            if not hmac.compare_digest(header_mac(file_key, header.mac_input), header.mac):
                raise DecryptionError("bad header MAC: the header was modified")
            return file_key
    raise DecryptionError("no identity matched any of the recipient stanzas")


def decrypt(identities: Sequence[X25519Identity], source: t.BinaryIO) -> AgeReader:
    """Open an age file and authenticate its header, its size and its final chunk.

    :param identities: tried in order; the first one that unwraps the file key is used.
    :param source: a seekable binary file positioned at the start of the age file.
    :raises DecryptionError: if the file is malformed, not for these identities, truncated,
        extended or tampered with.
    :raises ValueError: if ``identities`` is empty.
    """
    if not identities:
        raise ValueError("no identities given")
    start = source.tell()
    header = parse_header(source)
    file_key = _unwrap(identities, header)
    nonce = read_exactly(source, STREAM_NONCE_SIZE)
    if len(nonce) != STREAM_NONCE_SIZE:
        raise DecryptionError("file is truncated: the payload nonce is missing")
    payload_start = start + header.size + STREAM_NONCE_SIZE
    payload_size = source.seek(0, io.SEEK_END) - payload_start
    stream = DecryptReader(source, payload_key(file_key, nonce), payload_start, payload_size)
    stream.verify_final_chunk()
    return AgeReader(stream, header.mac, header.size, file_key)


def is_addressed_to(identity: X25519Identity, source: t.BinaryIO) -> bool:
    """Tell whether the age file at ``source`` has a stanza that ``identity`` unwraps.

    :raises DecryptionError: if the header is malformed, or unwraps but fails its MAC.
    """
    header = parse_header(source)
    if identity.unwrap(header.stanzas) is None:
        return False
    _unwrap([identity], header)
    return True


def rewrap(
    identities: Sequence[X25519Identity],
    recipients: Sequence[X25519Recipient],
    source: t.BinaryIO,
) -> tuple[bytes, int]:
    """Make a new header for the age file at ``source``, wrapping its file key for ``recipients``.

    The payload (nonce and chunks) depends only on the file key, so it stays valid as it is:
    the caller writes the new header followed by the old file's bytes from the returned
    offset on. Re-encrypting to a new identity costs a copy, not a pass of ChaCha20.

    :return: the new header, and the offset of the payload nonce in ``source``.
    :raises DecryptionError: if no identity opens the file or its header was modified.
    """
    if not recipients:
        raise ValueError("no recipients given")
    start = source.tell()
    header = parse_header(source)
    file_key = _unwrap(identities, header)
    stanzas = [recipient.wrap(file_key) for recipient in recipients]
    new_header = marshal_header(stanzas, header_mac(file_key, marshal_header_without_mac(stanzas)))
    return new_header, start + header.size

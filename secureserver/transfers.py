"""Moving files in and out: hash and encrypt on the way in, authenticate and decrypt on the way out.

This is the service the upload and download blueprints call. It joins the encryption service
(:class:`~secureserver.vault.Vault`) and the storage repository, and knows nothing of HTTP:
its inputs are iterables of byte chunks, its outputs records and iterators of plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import typing as t
from dataclasses import dataclass

from .crypto import CHUNK_SIZE
from .crypto import DecryptionError
from .crypto import chunk_index
from .pipeline import ReadAhead
from .pipeline import WriteBehind
from .storage import NewFile

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator

    from .crypto import AgeReader
    from .storage import FileRecord
    from .storage import FileRepository
    from .storage import PendingBlob
    from .vault import Vault


class NoFilesGiven(Exception):
    """The request carried no file at all."""


class TooManyFiles(Exception):
    """The request carried more files than one upload may hold."""


class BlobMismatch(DecryptionError):
    """A blob authenticates, but it is not the one written for this file (swapped or forged)."""


# age authenticates a blob, but not which file it belongs to: anyone who can write to the
# storage could put another file's blob, or a new one made with the public recipient, in its
# place. The row records a tag derived from the blob's file key, which only the blob's own
# key reproduces and which a key rotation (a new header, the same file key) keeps.
BLOB_TAG_PURPOSE = b"secureserver/blob-tag/v1"


@dataclass(frozen=True)
class IncomingFile:
    """A file arriving in a request: its cleaned name and type, and its bytes as they come."""

    name: str
    content_type: str
    chunks: Iterable[bytes | bytearray | memoryview]


@dataclass(frozen=True)
class OutgoingFile:
    """A file being sent: its record and the verified plaintext of bytes ``start:stop``."""

    record: FileRecord
    chunks: ReadAhead
    start: int
    stop: int

    @property
    def partial(self) -> bool:
        """Whether only a part of the file is sent (an HTTP range)."""
        return (self.start, self.stop) != (0, self.record.size)


def whole_file(record: FileRecord) -> tuple[int, int]:
    """The span of every byte of ``record``: the default for :func:`open_file`."""
    return 0, record.size


def store_files(
    vault: Vault,
    repository: FileRepository,
    incoming: Iterable[IncomingFile],
    *,
    max_files: int,
    expected_bytes: int | None = None,
) -> list[FileRecord]:
    """Encrypt and store every file of one request; all become listed, or none does.

    ``incoming`` is consumed lazily, so an exception raised while the request body is being
    read (a client that went away, a malformed body) aborts the whole batch.

    :raises NoFilesGiven: when ``incoming`` is empty.
    :raises TooManyFiles: when it holds more than ``max_files``.
    :raises StorageFull: when the disk has no room; nothing is kept.
    """
    with repository.begin(expected_bytes) as batch:
        stored = 0
        for item in incoming:
            if stored == max_files:
                raise TooManyFiles(f"at most {max_files} files per upload")
            blob = batch.new_blob()
            batch.add(blob, _encrypt_to(vault, blob, item))
            stored += 1
        if stored == 0:
            raise NoFilesGiven("no file in the request")
        return batch.commit()


def _encrypt_to(vault: Vault, blob: PendingBlob, item: IncomingFile) -> NewFile:
    """Stream one file through sha256 and age into ``blob``; describe what was written."""
    digest = hashlib.sha256()
    size = 0
    writer = vault.encrypt(blob)

    def hash_encrypt_store(chunk: bytes | bytearray | memoryview) -> None:
        digest.update(chunk)
        writer.write(chunk)

    # The request thread only receives (TLS is its slowest stage); a helper thread hashes,
    # encrypts and writes, in the order the chunks came.
    with WriteBehind(hash_encrypt_store) as behind:
        for chunk in item.chunks:
            behind.write(chunk)
            size += len(chunk)
    writer.close()
    return NewFile(
        name=item.name,
        content_type=item.content_type,
        size=size,
        sha256=digest.hexdigest(),
        blob_tag=writer.derive_key(BLOB_TAG_PURPOSE),
    )


def open_file(
    vault: Vault,
    repository: FileRepository,
    file_id: str,
    choose_span: Callable[[FileRecord], tuple[int, int]] = whole_file,
    on_failure: Callable[[DecryptionError], object] = lambda error: None,
) -> OutgoingFile:
    """Open a stored file for download, checking everything that can be checked up front.

    Before the first byte is sent, the blob's header must authenticate, it must be the blob
    written for this record (same blob tag), its size must match, and the first chunk to
    send must authenticate. The other chunks are verified one by one as they are read, so
    only authenticated plaintext is ever yielded.

    :param choose_span: given the record, returns the ``(start, stop)`` byte span to send
        (an HTTP range); it may raise to refuse the request, and the blob is then closed.
    :param on_failure: told about a chunk that fails later, while the file is being sent
        (the caller can no longer answer with an error then, only log it).
    :raises FileNotFound: when the file or its blob is missing.
    :raises DecryptionError: when the blob is damaged, swapped or forged.
    """
    record = repository.get(file_id)
    source = repository.open_blob(file_id)
    try:
        reader = vault.decrypt(source)
        if not hmac.compare_digest(reader.derive_key(BLOB_TAG_PURPOSE), record.blob_tag):
            raise BlobMismatch(f"blob of {file_id} does not belong to its metadata")
        if reader.plaintext_size != record.size:
            raise BlobMismatch(f"blob of {file_id} has the wrong size")
        start, stop = choose_span(record)
        plaintext = _plaintext_between(reader, start, stop)
        # The response has not started yet: a damaged first chunk still gets a clean error.
        first = next(plaintext, None)
    except BaseException:
        source.close()
        raise
    rest = _reporting(plaintext, on_failure)
    chunks = itertools.chain([first], rest) if first is not None else rest
    # Decrypt the next chunks on a helper thread while the current ones are being sent.
    return OutgoingFile(record, ReadAhead(chunks, on_close=source.close), start, stop)


def _reporting(
    chunks: Iterator[bytes], on_failure: Callable[[DecryptionError], object]
) -> Iterator[bytes]:
    try:
        yield from chunks
    except DecryptionError as error:
        on_failure(error)
        raise


def _plaintext_between(reader: AgeReader, start: int, stop: int) -> Iterator[bytes]:
    """Yield plaintext bytes ``start:stop``, decrypting only the chunks that hold them."""
    if start >= stop:
        return
    first = chunk_index(start)
    offset = first * CHUNK_SIZE
    for chunk in reader.chunks(first):
        low, high = max(start - offset, 0), min(stop - offset, len(chunk))
        yield chunk if (low, high) == (0, len(chunk)) else chunk[low:high]
        offset += len(chunk)
        if offset >= stop:
            return

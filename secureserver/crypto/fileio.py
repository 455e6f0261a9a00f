"""File-object plumbing for the payload and the file (C2SP age, "Payload", "Encrypted file
format").

Python's file objects may read or write less than asked (raw files, pipes). These helpers
loop, so that a short read means end of file and no write is ever half done.
"""

from __future__ import annotations

import typing as t


class Sink(t.Protocol):
    """Where ciphertext goes: anything with a file-like ``write``."""

    def write(self, data: bytes | memoryview, /) -> int | None: ...


def write_all(sink: Sink, data: bytes | memoryview) -> None:
    """Write all of ``data``, looping over short writes (raw files may accept less)."""
    view = memoryview(data)
    while view:
        written = sink.write(view)
        if written is None or written >= len(view):
            return
        if written <= 0:
            raise OSError("sink accepted no bytes")
        view = view[written:]


def read_exactly(source: t.BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, or fewer only when the source ends first."""
    data = source.read(size)
    while len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data


@t.runtime_checkable
class _ReadsInto(t.Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def read_into(source: t.BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``source``; return how many bytes came, fewer only at end of file.

    Files fill the caller's buffer in place; a source without ``readinto`` is read and copied.
    """
    filled = 0
    while filled < len(view):
        if isinstance(source, _ReadsInto):
            count = source.readinto(view[filled:]) or 0
        else:
            data = source.read(len(view) - filled)
            count = len(data)
            view[filled : filled + count] = data
        if not count:
            break
        filled += count
    return filled

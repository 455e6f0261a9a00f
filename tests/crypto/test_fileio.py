"""File-object plumbing: short reads and short writes are completed, not lost."""

from __future__ import annotations

import io
import typing as t

import pytest

from secureserver.crypto.fileio import read_exactly
from secureserver.crypto.fileio import write_all


class Dribble(io.BytesIO):
    """A source that returns at most 7 bytes per read, like a pipe might."""

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(7 if size is None or size < 0 else min(size, 7))


class Trickle(io.BytesIO):
    """A sink that takes at most 5 bytes per write."""

    def write(self, data: t.Any, /) -> int:
        return super().write(bytes(data)[:5])


def test_read_exactly_completes_short_reads() -> None:
    source = Dribble(bytes(range(100)))
    assert read_exactly(source, 30) == bytes(range(30))
    assert read_exactly(source, 100) == bytes(range(30, 100))  # ends early at EOF
    assert read_exactly(source, 1) == b""


def test_write_all_completes_short_writes() -> None:
    sink = Trickle()
    write_all(sink, bytes(range(23)))
    assert sink.getvalue() == bytes(range(23))


def test_write_all_refuses_a_sink_that_takes_nothing() -> None:
    class Stuck:
        def write(self, data: t.Any, /) -> int:
            return 0

    with pytest.raises(OSError, match="no bytes"):
        write_all(Stuck(), b"data")

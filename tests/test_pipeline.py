"""WriteBehind and ReadAhead: order kept, errors handed back, helper threads always end."""

from __future__ import annotations

import threading
import typing as t

import pytest

from secureserver.pipeline import ReadAhead
from secureserver.pipeline import WriteBehind

if t.TYPE_CHECKING:
    from collections.abc import Iterator


def _helper_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name in ("write-behind", "read-ahead")}


def test_write_behind_keeps_order() -> None:
    written: list[bytes] = []
    with WriteBehind(written.append) as behind:
        for i in range(100):
            behind.write(bytes([i]))
    assert written == [bytes([i]) for i in range(100)]
    assert _helper_threads() == set()


def test_write_behind_error_reaches_the_producer() -> None:
    def fail_on_third(chunk: bytes | memoryview) -> None:
        if chunk == b"3":
            raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"), WriteBehind(fail_on_third) as behind:
        for i in range(1000):
            behind.write(str(i).encode())
    assert _helper_threads() == set()


def test_write_behind_stops_without_writing_the_rest_on_producer_error() -> None:
    written: list[bytes] = []
    gate = threading.Event()

    def slow_append(chunk: bytes | memoryview) -> None:
        gate.wait(5)
        written.append(bytes(chunk))

    with pytest.raises(RuntimeError), WriteBehind(slow_append, depth=2) as behind:
        behind.write(b"a")
        behind.write(b"b")
        gate.set()
        raise RuntimeError("client went away")
    assert len(written) <= 2
    assert _helper_threads() == set()


def _numbers(count: int, fail_at: int | None = None) -> Iterator[bytes]:
    for i in range(count):
        if i == fail_at:
            raise ValueError(f"bad chunk {i}")
        yield str(i).encode()


def test_read_ahead_yields_everything_in_order_then_closes() -> None:
    closed = threading.Event()
    assert list(ReadAhead(_numbers(50), on_close=closed.set)) == [
        str(i).encode() for i in range(50)
    ]
    assert closed.is_set()
    assert _helper_threads() == set()


def test_read_ahead_raises_where_the_source_failed() -> None:
    closed = threading.Event()
    received = []
    with pytest.raises(ValueError, match="bad chunk 7"):
        for chunk in ReadAhead(_numbers(50, fail_at=7), on_close=closed.set):
            received.append(chunk)
    assert received == [str(i).encode() for i in range(7)]
    assert closed.is_set()


def test_read_ahead_close_stops_an_endless_source() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x"

    closed = threading.Event()
    reader = ReadAhead(endless(), on_close=closed.set)
    assert next(reader) == b"x"
    reader.close()
    reader.close()
    assert closed.is_set()
    assert _helper_threads() == set()
    with pytest.raises(StopIteration):
        next(reader)


def test_read_ahead_closed_unread_starts_no_thread() -> None:
    closed = threading.Event()
    started = threading.Event()

    def watched() -> Iterator[bytes]:
        started.set()
        yield b"never read"

    ReadAhead(watched(), on_close=closed.set).close()
    assert closed.is_set()
    assert not started.is_set()

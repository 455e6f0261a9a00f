"""Overlap the stages of a transfer on two threads, with a bounded queue between them.

One upload is a chain of C calls that each release the GIL: TLS decryption, SHA-256,
ChaCha20-Poly1305, the write to disk. Run in one thread they take turns on one core; split
at a queue, the request thread keeps receiving and hashing while a helper thread encrypts
and writes, and a download decrypts the next chunks while the current ones are sent. The
queue holds a few chunks at most, so memory per transfer stays bounded.
"""

from __future__ import annotations

import queue
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from types import TracebackType

Chunk: t.TypeAlias = bytes | memoryview
QUEUE_DEPTH = 4
# How long a stopping side waits for the other; a stuck disk must not hang a worker forever.
JOIN_TIMEOUT_SECONDS = 60.0


class _End:
    """Marks the end of a queue's items."""


_END = _End()


class WriteBehind:
    """Call ``write`` for each chunk on a helper thread, in order.

    Errors raised by ``write`` come back to the caller at its next :meth:`write` or at
    :meth:`close`. Leaving the ``with`` block on an exception stops the helper without
    waiting for the queued chunks to be written.
    """

    def __init__(self, write: Callable[[Chunk], object], depth: int = QUEUE_DEPTH) -> None:
        self._write = write
        self._queue: queue.Queue[Chunk | _End] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not isinstance(item := self._queue.get(), _End):
            # After an error or a stop, keep taking items so that the producer never blocks.
            if self._error is None and not self._stopped:
                try:
                    self._write(item)
                except BaseException as e:  # handed to the producer thread
                    self._error = e

    def write(self, chunk: Chunk) -> None:
        """Queue ``chunk``; raise the helper's error if an earlier write failed."""
        self._raise_error()
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every queued chunk is written; raise the helper's error, if any."""
        if not self._finish():
            raise TimeoutError("the write-behind thread did not finish")
        self._raise_error()

    def _finish(self) -> bool:
        """Tell the helper to end and wait for it; return whether it ended in time."""
        self._queue.put(_END)
        self._thread.join(JOIN_TIMEOUT_SECONDS)
        return not self._thread.is_alive()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            # The original exception is what the caller must see, even if the helper hangs.
            self._stopped = True
            self._finish()


class ReadAhead:
    """Iterate ``chunks`` on a helper thread, a few items ahead of the consumer.

    Items and the exception that ends ``chunks`` arrive in order; :meth:`close` stops the
    helper early (a client that went away) and then calls ``on_close``.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        on_close: Callable[[], object],
        depth: int = QUEUE_DEPTH,
    ) -> None:
        self._chunks = chunks
        self._on_close = on_close
        self._queue: queue.Queue[bytes | BaseException | _End] = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        # Started by the first next(): a HEAD request, or a response dropped before it is
        # sent, never starts a thread that would need stopping.
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if not self._put(chunk):
                    return
        except BaseException as e:  # handed to the consumer thread, in order
            self._put(e)
            return
        self._put(_END)

    def _put(self, item: bytes | BaseException | _End) -> bool:
        """Queue ``item`` unless the consumer stopped; tell whether to go on."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="read-ahead", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if isinstance(item, bytes):
            return item
        self.close()
        if isinstance(item, BaseException):
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the helper thread and release the source. Idempotent."""
        if self._done:
            return
        self._done = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
        self._on_close()

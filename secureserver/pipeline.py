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

Chunk: t.TypeAlias = bytes | bytearray | memoryview
QUEUE_DEPTH = 4
# What the read-ahead thread gathers before it hands chunks over (see ReadAhead).
BATCH_BYTES = 256 * 1024
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

    The helper starts with the second chunk: a body that arrives in one read (most files of
    a few hundred KiB) is written by :meth:`close` on the caller's thread, and pays for no
    thread start and join, which cost more than the overlap could save.
    """

    def __init__(self, write: Callable[[Chunk], object], depth: int = QUEUE_DEPTH) -> None:
        self._write = write
        self._queue: queue.Queue[Chunk | _End] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._stopped = False
        self._first: Chunk | None = None
        self._thread: threading.Thread | None = None

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
        if self._thread is None:
            if self._first is None:
                self._first = chunk
                return
            self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self._thread.start()
            first, self._first = self._first, None
            self._queue.put(first)
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every queued chunk is written; raise the helper's error, if any."""
        if self._thread is None:
            first, self._first = self._first, None
            if first is not None:
                self._write(first)
            return
        if not self._finish():
            raise TimeoutError("the write-behind thread did not finish")
        self._raise_error()

    def _finish(self) -> bool:
        """Tell the helper to end and wait for it; return whether it ended in time."""
        if self._thread is None:
            return True
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
            self._first = None
            self._finish()


class ReadAhead:
    """Iterate ``chunks`` on a helper thread, a few items ahead of the consumer.

    Items and the exception that ends ``chunks`` arrive in order; :meth:`close` stops the
    helper early (a client that went away) and then calls ``on_close``. The helper hands
    items over in batches of up to ``batch_bytes``: passing each 64 KiB chunk through the
    queue alone woke the other thread 16 times per MiB, and both threads spent most of a
    download waiting for each other. A batch goes out early whenever the consumer has
    nothing left to take, so it never waits for a batch to fill.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        on_close: Callable[[], object],
        depth: int = QUEUE_DEPTH,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self._chunks = chunks
        self._on_close = on_close
        self._batch_bytes = batch_bytes
        self._queue: queue.Queue[list[bytes] | BaseException | _End] = queue.Queue(depth)
        self._taken: list[bytes] = []
        self._stop = threading.Event()
        self._done = False
        # Started by the first next(): a HEAD request, or a response dropped before it is
        # sent, never starts a thread that would need stopping.
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        batch: list[bytes] = []
        size = 0
        try:
            for chunk in self._chunks:
                batch.append(chunk)
                size += len(chunk)
                if size >= self._batch_bytes or self._queue.empty():
                    if not self._put(batch):
                        return
                    batch, size = [], 0
        except BaseException as e:  # handed to the consumer thread, in order
            if not batch or self._put(batch):
                self._put(e)
            return
        if not batch or self._put(batch):
            self._put(_END)

    def _put(self, item: list[bytes] | BaseException | _End) -> bool:
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
        if self._taken:
            return self._taken.pop()
        if self._done:
            raise StopIteration
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="read-ahead", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if isinstance(item, list):
            # Reversed once, so that each next() is a cheap pop() from the end.
            item.reverse()
            self._taken = item
            return self._taken.pop()
        self.close()
        if isinstance(item, BaseException):
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the helper thread and release the source. Idempotent."""
        if self._done:
            return
        self._done = True
        self._taken = []
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_SECONDS)
        self._on_close()

"""Progress for long commands: a bar on a terminal, plain lines in a log or a pipe."""

from __future__ import annotations

import contextlib
import sys
import time
import typing as t

import click

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

# Without a terminal, one line at most this often: enough to see it move in a journal.
LINE_INTERVAL_SECONDS = 5.0


@contextlib.contextmanager
def progress_reporter(total: int, label: str) -> Iterator[Callable[[object], None]]:
    """Yield a function to call once per item done; it draws or prints the progress."""
    if sys.stdout.isatty():
        with click.progressbar(length=total, label=label) as bar:
            yield lambda _item: bar.update(1)
        return
    done = 0
    last = time.monotonic()

    def advance(_item: object) -> None:
        nonlocal done, last
        done += 1
        if done == total or time.monotonic() - last >= LINE_INTERVAL_SECONDS:
            last = time.monotonic()
            click.echo(f"{label}: {done}/{total}")

    yield advance

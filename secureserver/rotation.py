"""Key rotation: move every stored file to a new identity without re-encrypting a byte.

An age payload depends only on its file key, so rotating the server identity means writing
each blob's header again, wrapping the same file key for the new recipients, and copying the
payload after it. Each blob is replaced atomically; metadata is resealed row by row. The
identity file lists the new identity first and the old one after it for as long as the
rotation runs, so every worker (which re-reads the file when it changes) can open both old
and new blobs and keeps serving. Running it again after an interruption skips what is done.
"""

from __future__ import annotations

import functools
import shutil
import typing as t
from dataclasses import dataclass

from .crypto import is_addressed_to
from .crypto import rewrap
from .storage import FileNotFound
from .storage import FileQuery

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from .storage import FileRecord
    from .storage import FileRepository
    from .storage import PendingBlob
    from .vault import Vault

COPY_BUFFER = 1024 * 1024


@dataclass
class RotationReport:
    """What one pass of :func:`rewrap_all` did."""

    rewrapped: int = 0
    already_current: int = 0
    vanished: int = 0
    resealed: int = 0


def rewrap_all(
    vault: Vault,
    repository: FileRepository,
    *,
    force: bool = False,
    on_file: Callable[[FileRecord], object] = lambda record: None,
) -> RotationReport:
    """Rewrite every blob not yet addressed to the current identity, then reseal metadata.

    :param force: rewrite every blob, also those already addressed to the current identity
        (after a change of ``RECOVERY_RECIPIENTS``).
    :param on_file: called after each file, for progress.
    """
    report = RotationReport()
    rewrap_blob = functools.partial(_rewrap, vault)
    for record in repository.find(FileQuery(sort="size", descending=False)).records:
        try:
            if not force and _addressed_to_current(vault, repository, record.id):
                report.already_current += 1
            else:
                repository.rewrite_blob(record.id, rewrap_blob)
                report.rewrapped += 1
        except FileNotFound:
            report.vanished += 1  # deleted meanwhile: nothing left to rotate
        on_file(record)
    report.resealed = repository.reseal_metadata()
    return report


def _addressed_to_current(vault: Vault, repository: FileRepository, file_id: str) -> bool:
    with repository.open_blob(file_id) as source:
        return is_addressed_to(vault.identities()[0], source)


def _rewrap(vault: Vault, source: t.BinaryIO, sink: PendingBlob) -> None:
    header, payload_offset = rewrap(vault.identities(), vault.recipients(), source)
    sink.write(header)
    source.seek(payload_offset)
    shutil.copyfileobj(source, sink, COPY_BUFFER)

"""The text of an identity file, as age-keygen writes it: comments, then one key per line."""

from __future__ import annotations

import datetime
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from ..crypto import X25519Identity


def identity_file_text(identities: Sequence[X25519Identity]) -> bytes:
    """Format ``identities`` (the current one first) for an age identity file.

    Every key gets ``# created:`` and ``# public key:`` comments, so an admin reading the file
    sees which recipient each secret belongs to.
    """
    created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = (
        f"# created: {created}\n# public key: {identity.recipient}\n{identity}\n"
        for identity in identities
    )
    return "".join(entries).encode("ascii")

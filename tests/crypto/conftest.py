"""Fixtures for the age tests: keys, sealing helpers and the ``age`` command-line tool."""

from __future__ import annotations

import io
import os
import shutil
import typing as t
from pathlib import Path

import pytest

from secureserver.crypto import X25519Identity
from secureserver.crypto import decrypt
from secureserver.crypto import encrypt

# The X25519 example of C2SP age, "The X25519 recipient type".
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

MIB = 1024 * 1024


@pytest.fixture(scope="session")
def identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture(scope="session")
def other_identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture(scope="session")
def spec_identity() -> X25519Identity:
    return X25519Identity.parse(SPEC_IDENTITY)


def _pieces(data: bytes, size: int | None) -> t.Iterator[bytes]:
    if size is None:
        yield data
        return
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture(scope="session")
def seal(identity: X25519Identity) -> t.Callable[..., bytes]:
    """Encrypt bytes to ``identity`` (or given recipients), fed in pieces of ``piece`` bytes."""

    def seal(data: bytes, piece: int | None = None, recipients: t.Any = None) -> bytes:
        sink = io.BytesIO()
        with encrypt(recipients or [identity.recipient], sink) as writer:
            for part in _pieces(data, piece):
                writer.write(part)
        return sink.getvalue()

    return seal


@pytest.fixture(scope="session")
def unseal(identity: X25519Identity) -> t.Callable[..., bytes]:
    """Decrypt a whole age file held in memory, with ``identity`` unless told otherwise."""

    def unseal(blob: bytes, identities: t.Any = None) -> bytes:
        reader = decrypt(identities or [identity], io.BytesIO(blob))
        return b"".join(reader.chunks())

    return unseal


@pytest.fixture(scope="session")
def age_cli() -> dict[str, str]:
    """Paths of ``age`` and ``age-keygen``; missing tools fail rather than skip.

    ``make test`` installs them, so a skip would hide a broken install step.
    """
    tools = {name: shutil.which(name) or f"/usr/bin/{name}" for name in ("age", "age-keygen")}
    missing = [name for name, path in tools.items() if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the interoperability tests need the age CLI "
            "(apt-get install age)",
            pytrace=False,
        )
    return tools


@pytest.fixture
def write_identity_file(tmp_path: Path) -> t.Callable[[X25519Identity], Path]:
    """Write an identity file the way age-keygen does, mode 0600."""

    def write(identity: X25519Identity) -> Path:
        path = tmp_path / "identity.txt"
        path.write_text(
            f"# created: 2026-01-01T00:00:00Z\n# public key: {identity.recipient}\n{identity}\n"
        )
        path.chmod(0o600)
        return path

    return write

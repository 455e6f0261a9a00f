"""The application's services, built once per app and reached through typed accessors.

Views call :func:`get_vault` and :func:`get_repository` instead of reading globals or
attributes glued onto the app object, so every dependency is visible at the call site and
tests get a fresh set per app.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .config import resolve_identity_path
from .crypto import X25519Recipient
from .storage import FilesystemRepository
from .vault import Vault

if t.TYPE_CHECKING:
    from flask import Flask

    from .storage import FileRepository

EXTENSION_KEY = "secureserver"
DATABASE_FILE = "secureserver.sqlite3"
STORAGE_DIR = "storage"


@dataclass(frozen=True)
class Services:
    """Everything the views need besides the request."""

    vault: Vault
    repository: FileRepository


def init_app(app: Flask) -> None:
    """Build the services for ``app`` from its instance folder and configuration."""
    instance = Path(app.instance_path)
    vault = Vault(
        resolve_identity_path(app.config["IDENTITY_FILE"], instance),
        [X25519Recipient.parse(r) for r in app.config["RECOVERY_RECIPIENTS"]],
    )
    app.extensions[EXTENSION_KEY] = Services(
        vault=vault,
        repository=FilesystemRepository(
            instance / STORAGE_DIR,
            instance / DATABASE_FILE,
            cipher=vault.field_cipher,
            reserve_bytes=app.config["STORAGE_RESERVE_BYTES"],
        ),
    )


def get_services(app: Flask | None = None) -> Services:
    """Return the services of ``app``, or of the current app."""
    services = (app or current_app).extensions[EXTENSION_KEY]
    return t.cast(Services, services)


def get_vault() -> Vault:
    """Return the current app's encryption service."""
    return get_services().vault


def get_repository() -> FileRepository:
    """Return the current app's storage repository."""
    return get_services().repository

"""Configuration defaults and the order in which they are overridden.

Load order, last wins:

1. :data:`DEFAULTS` below;
2. ``config.py`` in the instance folder, if present (an admin's settings);
3. ``SECURESERVER_*`` environment variables, values parsed as JSON when they parse
   (``SECURESERVER_MAX_CONTENT_LENGTH=1048576``), else taken as strings;
4. the ``test_config`` mapping given to :func:`secureserver.create_app`.

The instance folder itself is chosen before any of that, by :func:`resolve_instance_path`.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

DEFAULTS: dict[str, t.Any] = {
    # Largest request body accepted, checked against Content-Length before reading the body.
    "MAX_CONTENT_LENGTH": 16 * GiB,
    # Non-file form fields are held in memory; files never are. Keep both small.
    "MAX_FORM_MEMORY_SIZE": 64 * KiB,
    "MAX_FORM_PARTS": 1000,
    "MAX_FILES_PER_REQUEST": 100,
    # Uploads are refused with 507 when they would leave less than this on the storage disk.
    "STORAGE_RESERVE_BYTES": 256 * MiB,
    # Size of the reads from the request body while streaming an upload.
    "UPLOAD_READ_SIZE": 1 * MiB,
    "SESSION_COOKIE_NAME": "secureserver_session",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "PREFERRED_URL_SCHEME": "https",
    # Reverse proxies in front whose X-Forwarded-For/-Proto may be believed; 0 trusts none.
    "PROXY_COUNT": 0,
    # Wrong access passwords allowed per client address (see access.py), in `limits` syntax.
    "AUTH_FAILURE_LIMIT": "10 per minute",
    # The identity file; by default systemd's credential "identity" if the unit passes one
    # (LoadCredential=identity:...), else identity.txt in the instance folder.
    "IDENTITY_FILE": None,
    # Offline age recipients (age1...) every new file is also encrypted to, for recovery.
    "RECOVERY_RECIPIENTS": [],
    # Serve Prometheus metrics at /metrics (behind the access password, if one is set).
    "METRICS": False,
}


def resolve_instance_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Pick the folder that holds the identity, the database and the blobs.

    An explicit argument wins, then ``SECURESERVER_INSTANCE_PATH``, then systemd's
    ``$STATE_DIRECTORY``, then ``instance/`` in the checkout. Flask's own guess would put it
    inside the virtualenv after a plain ``pip install``.
    """
    chosen = (
        explicit
        or os.environ.get("SECURESERVER_INSTANCE_PATH")
        or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        or PROJECT_ROOT / "instance"
    )
    return Path(chosen).resolve()


def resolve_identity_path(configured: str | None, instance_path: Path) -> Path:
    """Pick the identity file: the setting, systemd's credential, or the instance folder."""
    if configured:
        return Path(configured)
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / "identity").is_file():
        return Path(credentials) / "identity"
    return instance_path / "identity.txt"


def load_config(app: Flask, test_config: Mapping[str, t.Any] | None = None) -> None:
    """Apply the four configuration layers, in the documented order, to ``app.config``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SECURESERVER")
    if test_config is not None:
        app.config.from_mapping(test_config)

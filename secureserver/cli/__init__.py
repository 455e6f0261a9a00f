"""The ``flask --app secureserver`` commands, one module per area of administration.

``setup_commands`` makes the secrets (identity, certificate, access password), ``keys``
rotates the identity, ``files`` inspects and exports what is stored, ``integrity`` checks
it, ``backup`` snapshots it.
"""

from __future__ import annotations

import typing as t

from .backup import backup
from .files import export
from .files import files
from .files import stats
from .integrity import verify
from .keys import rotate_key
from .setup_commands import gen_cert
from .setup_commands import keygen
from .setup_commands import set_password

if t.TYPE_CHECKING:
    from flask import Flask

COMMANDS = (keygen, gen_cert, set_password, rotate_key, files, export, stats, verify, backup)


def register(app: Flask) -> None:
    """Add every command to ``app.cli``."""
    for command in COMMANDS:
        app.cli.add_command(command)

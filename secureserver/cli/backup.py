"""``backup``: a consistent snapshot of the metadata and blobs, restorable with two copies."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..services import get_repository

RESTORE_NOTE = """\
secureserver backup: secureserver.sqlite3 (metadata) and storage/ (one age file per file).
The identity is NOT in here: keep it (or a recovery key) in a separate, offline place.

To restore, with the server stopped, into an instance folder INSTANCE:
    cp -a secureserver.sqlite3 storage INSTANCE/
then put the identity back as INSTANCE/identity.txt (mode 0600) and start the server.
Without secureserver: age -d -i identity.txt storage/<id>.age > file
"""


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup(destination: Path) -> None:
    """Write a consistent snapshot to DESTINATION (a new folder), server running or not."""
    if destination.exists():
        raise click.ClickException(f"{destination} exists; give a new folder")
    count = get_repository().backup(destination)
    (destination / "RESTORE.txt").write_text(RESTORE_NOTE)
    click.echo(f"backed up {count} files to {destination}; see {destination / 'RESTORE.txt'}")

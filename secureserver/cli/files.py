"""Admin commands on stored files: ``files list|info|delete``, ``export``, ``stats``."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..presenters import human_size
from ..presenters import record_fields
from ..services import get_repository
from ..services import get_vault
from ..storage import SORT_KEYS
from ..storage import FileNotFound
from ..storage import FileQuery
from ..transfers import open_file

if t.TYPE_CHECKING:
    from ..storage import FileRecord


def _record_or_fail(file_id: str) -> FileRecord:
    try:
        return get_repository().get(file_id)
    except FileNotFound:
        raise click.ClickException(f"no file with id {file_id}") from None


@click.group("files")
def files() -> None:
    """List, describe and delete stored files."""


@files.command("list")
@click.option("--sort", type=click.Choice(SORT_KEYS), default="uploaded_at", show_default=True)
@click.option("--ascending", is_flag=True, help="Oldest, smallest or A first.")
@click.option("--name", "contains", help="Only names containing this text.")
@click.option("--limit", type=click.IntRange(1), help="At most this many files.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def list_files(
    sort: t.Any, ascending: bool, contains: str | None, limit: int | None, as_json: bool
) -> None:
    """List files: id, size, upload time (UTC) and name, tab-separated."""
    query = FileQuery(sort=sort, descending=not ascending, contains=contains, limit=limit)
    for record in get_repository().find(query).records:
        if as_json:
            click.echo(json.dumps(record_fields(record), ensure_ascii=False))
        else:
            moment = record.uploaded_at.strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{record.id}\t{record.size}\t{moment}\t{record.name}")


@files.command("info")
@click.argument("file_id")
@with_appcontext
def info(file_id: str) -> None:
    """Show everything known about one file, as JSON."""
    click.echo(json.dumps(record_fields(_record_or_fail(file_id)), ensure_ascii=False, indent=2))


@files.command("delete")
@click.argument("file_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete(file_id: str, yes: bool) -> None:
    """Delete one file, its metadata and its blob."""
    record = _record_or_fail(file_id)
    if not yes:
        click.confirm(f"delete {record.name} ({human_size(record.size)})?", abort=True)
    get_repository().delete(file_id)
    click.echo(f"deleted {file_id}")


@click.command("export")
@click.argument("file_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (refused if it exists) instead of standard output.",
)
@with_appcontext
def export(file_id: str, output: Path | None) -> None:
    """Decrypt one file to standard output or a file, authenticating every chunk.

    If a chunk fails authentication the command stops with status 1, and a partial
    output file is removed.
    """
    _record_or_fail(file_id)
    outgoing = open_file(get_vault(), get_repository(), file_id)
    try:
        if output is None:
            for chunk in outgoing.chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        with output.open("xb") as sink:
            try:
                for chunk in outgoing.chunks:
                    sink.write(chunk)
            except BaseException:
                output.unlink(missing_ok=True)
                raise
    finally:
        outgoing.chunks.close()


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="As a JSON object.")
@with_appcontext
def stats(as_json: bool) -> None:
    """Count stored files and bytes, and show the free space on the storage disk."""
    numbers = get_repository().stats()
    if as_json:
        fields = {"files": numbers.files, "bytes": numbers.bytes, "free_bytes": numbers.free_bytes}
        click.echo(json.dumps(fields))
        return
    click.echo(f"files: {numbers.files}")
    click.echo(f"stored: {human_size(numbers.bytes)} ({numbers.bytes} bytes, plaintext)")
    click.echo(f"free: {human_size(numbers.free_bytes)} ({numbers.free_bytes} bytes)")

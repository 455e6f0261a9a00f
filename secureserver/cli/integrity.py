"""``verify``: authenticate every stored file, report missing, corrupt and orphan blobs."""

from __future__ import annotations

import random

import click
from flask.cli import with_appcontext

from ..integrity import Problem
from ..integrity import check_file
from ..integrity import find_orphans
from ..services import get_repository
from ..services import get_vault
from ..storage import FileQuery
from .progress import progress_reporter


@click.command("verify")
@click.option("--all", "check_all", is_flag=True, help="Check every file (the default).")
@click.option("--sample", type=click.IntRange(1), help="Check only N files picked at random.")
@click.option("--repair-orphans", is_flag=True, help="Delete blobs that no file owns.")
@click.option("--yes", is_flag=True, help="Do not ask before deleting orphans.")
@with_appcontext
def verify(check_all: bool, sample: int | None, repair_orphans: bool, yes: bool) -> None:
    """Read every stored file as a download would, authenticating every chunk.

    Exits with status 1 if any file is missing or corrupt, or any blob is an orphan (left
    unrepaired), so it can run from cron or a systemd timer.
    """
    if check_all and sample:
        raise click.UsageError("--all and --sample exclude each other")
    vault, repository = get_vault(), get_repository()
    records = repository.find(FileQuery()).records
    listed = {record.id for record in records}
    if sample is not None:
        records = random.sample(records, min(sample, len(records)))
    problems: list[Problem] = []
    with progress_reporter(len(records), "verifying") as advance:
        for record in records:
            if (problem := check_file(vault, repository, record)) is not None:
                problems.append(problem)
            advance(record)
    orphans = find_orphans(repository, listed)
    for problem in problems + orphans:
        click.echo(f"{problem.kind}: {problem.file_id}: {problem.detail}")
    if orphans and repair_orphans and (yes or click.confirm(f"delete {len(orphans)} orphans?")):
        for orphan in orphans:
            repository.delete_orphan_blob(orphan.file_id)
        click.echo(f"deleted {len(orphans)} orphan blobs")
        orphans = []
    click.echo(f"{len(records)} files checked, {len(problems)} problems, {len(orphans)} orphans")
    if problems or orphans:
        raise SystemExit(1)

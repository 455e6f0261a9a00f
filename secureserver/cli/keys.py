"""``rotate-key``: move every stored file to a new identity while the server keeps serving."""

from __future__ import annotations

import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..crypto import X25519Identity
from ..keyfiles import replace_private_file
from ..rotation import rewrap_all
from ..services import get_repository
from ..services import get_vault
from .identity_file import identity_file_text
from .progress import progress_reporter


@click.command("rotate-key")
@click.option(
    "--rewrap-only",
    is_flag=True,
    help="Keep the identity; rewrite every header for the current recipients "
    "(after a change of RECOVERY_RECIPIENTS).",
)
@with_appcontext
def rotate_key(rewrap_only: bool) -> None:
    """Make a new identity current and re-wrap every file's key for it.

    Only headers are rewritten (payloads are copied, not re-encrypted), one file at a time
    and atomically; metadata is resealed with the new key. While it runs, the identity file
    holds the new key first and the old one after it, so the server, which re-reads the
    file when it changes, opens old and new files alike. If interrupted, run it again: it
    resumes. At the end the old key is moved out of the identity file into a retired file.
    """
    vault, repository = get_vault(), get_repository()
    identities = vault.identities()
    if rewrap_only:
        click.echo(f"rewriting every header for {vault.recipients()[0]} and recovery keys")
    elif len(identities) == 1:
        new = X25519Identity.generate()
        _write_identities(vault.identity_path, [new, *identities])
        click.echo(f"new identity {new.recipient}; the old one stays loaded until the end")
        identities = vault.identities()
    else:
        click.echo(f"resuming the rotation to {identities[0].recipient}")
    total = repository.stats().files
    with progress_reporter(total, "re-wrapping") as advance:
        report = rewrap_all(vault, repository, force=rewrap_only, on_file=advance)
    click.echo(
        f"{report.rewrapped} re-wrapped, {report.already_current} already current, "
        f"{report.vanished} deleted meanwhile, {report.resealed} metadata rows resealed"
    )
    if len(identities) > 1:
        # A second pass catches files uploaded with the old key while the first one ran.
        rewrap_all(vault, repository)
        _retire(vault.identity_path, identities)


def _write_identities(path: Path, identities: list[X25519Identity]) -> None:
    try:
        replace_private_file(path, identity_file_text(identities))
    except OSError as e:
        raise click.ClickException(
            f"cannot write {path}: {e.strerror}. If the identity comes from a systemd "
            "credential, run the rotation with IDENTITY_FILE set to its source file."
        ) from e


def _retire(identity_path: Path, identities: list[X25519Identity]) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    retired = identity_path.with_name(f"identity-retired-{stamp}.txt")
    replace_private_file(retired, identity_file_text(identities[1:]))
    _write_identities(identity_path, identities[:1])
    click.echo(
        f"rotation done: {identity_path} holds only {identities[0].recipient}.\n"
        f"The old key was moved to {retired}: keep it offline, or delete it if it leaked."
    )

"""Commands that create the server's secrets: ``keygen``, ``gen-cert``, ``set-password``.

They run before the server ever starts, so they work without an identity; keygen and
gen-cert refuse to overwrite what exists, because replacing the identity would make every
stored file unreadable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import passwords
from ..access import PASSWORD_FILE
from ..config import PROJECT_ROOT
from ..crypto import X25519Identity
from ..keyfiles import create_private_file
from ..services import get_vault
from ..tls import DEFAULT_HOSTS
from ..tls import MAX_DAYS
from ..tls import make_certificate
from .identity_file import identity_file_text

DEFAULT_CERT_DIR = PROJECT_ROOT / "certs"


@click.command("keygen")
@with_appcontext
def keygen() -> None:
    """Create the server's age identity and print its public recipient."""
    path = get_vault().identity_path
    identity = X25519Identity.generate()
    try:
        create_private_file(path, identity_file_text([identity]))
    except FileExistsError:
        raise click.ClickException(
            f"an identity already exists at {path}; refusing to overwrite it "
            "(every stored file is encrypted to it)"
        ) from None
    click.echo(f"wrote {path}", err=True)
    click.echo(str(identity.recipient))


@click.command("gen-cert")
@with_appcontext
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help=f"A DNS name or IP address clients use (repeatable; default: {', '.join(DEFAULT_HOSTS)}).",
)
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, MAX_DAYS))
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CERT_DIR,
    show_default=True,
    help="Where cert.pem and key.pem are written.",
)
@click.option("--force", is_flag=True, help="Replace an existing certificate and key.")
def gen_cert(hosts: tuple[str, ...], days: int, out_dir: Path, force: bool) -> None:
    """Create a TLS certificate: cert.pem (chain), key.pem (0600), and ca.pem for clients."""
    paths = {name: out_dir / f"{name}.pem" for name in ("cert", "key", "ca")}
    if not force and any(path.exists() for path in paths.values()):
        raise click.ClickException(
            f"a certificate already exists in {out_dir}; use --force to replace it"
        )
    bundle = make_certificate(hosts or DEFAULT_HOSTS, days)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths["key"].unlink(missing_ok=True)
    create_private_file(paths["key"], bundle.key)
    paths["cert"].write_bytes(bundle.chain)
    paths["ca"].write_bytes(bundle.ca)
    click.echo(
        f"wrote {out_dir}/cert.pem, key.pem and ca.pem for {', '.join(hosts or DEFAULT_HOSTS)}"
    )
    click.echo(f"clients can trust this server with: curl --cacert {paths['ca']} ...")


@click.command("set-password")
@click.option("--remove", is_flag=True, help="Remove the password: no login needed any more.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def set_password(remove: bool, from_stdin: bool) -> None:
    """Require an access password for the page and the API (or remove it)."""
    path = Path(current_app.instance_path) / PASSWORD_FILE
    if remove:
        path.unlink(missing_ok=True)
        click.echo("access password removed: anyone who can reach the server can use it")
        return
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New access password", hide_input=True, confirmation_prompt=True)
    try:
        passwords.set_password(path, password)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"access password set ({path}); browsers log in once, API clients use "
        "curl -u :PASSWORD or Authorization: Bearer PASSWORD"
    )

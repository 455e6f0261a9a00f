"""The flask CLI: keygen and gen-cert create secrets owner-only and never overwrite them."""

from __future__ import annotations

import ipaddress
import stat
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from secureserver import create_app
from secureserver.crypto import X25519Identity
from secureserver.crypto import parse_identity_file

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask.testing import FlaskCliRunner


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keygen_writes_an_age_identity_owner_only(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    runner = create_app(instance_path=instance).test_cli_runner()
    result = runner.invoke(args=["keygen"])
    assert result.exit_code == 0, result.output
    path = instance / "identity.txt"
    assert _mode(path) == 0o600
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# created: ")
    (identity,) = parse_identity_file(path.read_text())
    assert lines[1] == f"# public key: {identity.recipient}"
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    # The recipient is what the command prints on stdout, for scripts.
    assert str(identity.recipient) in result.stdout.splitlines()


def test_keygen_refuses_to_overwrite(runner: FlaskCliRunner, instance_path: Path) -> None:
    before = (instance_path / "identity.txt").read_bytes()
    result = runner.invoke(args=["keygen"])
    assert result.exit_code != 0
    assert "refusing to overwrite" in result.output
    assert (instance_path / "identity.txt").read_bytes() == before


def test_keygen_leaves_no_temporary_file(instance_path: Path, runner: FlaskCliRunner) -> None:
    assert sorted(p.name for p in instance_path.iterdir() if p.name.startswith(".")) == []


def _certificate_files(tmp_path: Path, *args: str) -> tuple[t.Any, Path]:
    out = tmp_path / "certs"
    runner = create_app(instance_path=tmp_path / "instance").test_cli_runner()
    result = runner.invoke(args=["gen-cert", "--out-dir", str(out), *args])
    return result, out


def test_gen_cert_chain_key_and_ca(tmp_path: Path) -> None:
    result, out = _certificate_files(tmp_path, "--host", "files.example.lan", "--host", "10.1.2.3")
    assert result.exit_code == 0, result.output
    assert _mode(out / "key.pem") == 0o600
    server, ca = x509.load_pem_x509_certificates((out / "cert.pem").read_bytes())
    assert x509.load_pem_x509_certificate((out / "ca.pem").read_bytes()) == ca
    server.verify_directly_issued_by(ca)

    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["files.example.lan"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.1.2.3")]
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    constraints = ca.extensions.get_extension_for_oid(ExtensionOID.NAME_CONSTRAINTS)
    assert constraints.critical
    key = serialization.load_pem_private_key((out / "key.pem").read_bytes(), password=None)
    assert key.public_key() == server.public_key()


def test_gen_cert_defaults_cover_loopback(tmp_path: Path) -> None:
    result, out = _certificate_files(tmp_path)
    assert result.exit_code == 0, result.output
    server = x509.load_pem_x509_certificates((out / "cert.pem").read_bytes())[0]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)


def test_gen_cert_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    _certificate_files(tmp_path)
    before = (tmp_path / "certs" / "key.pem").read_bytes()
    result, out = _certificate_files(tmp_path)
    assert result.exit_code != 0
    assert "--force" in result.output
    assert (out / "key.pem").read_bytes() == before
    result, out = _certificate_files(tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert (out / "key.pem").read_bytes() != before
    assert _mode(out / "key.pem") == 0o600


def test_gen_cert_rejects_bad_days(tmp_path: Path) -> None:
    result, _ = _certificate_files(tmp_path, "--days", "5000")
    assert result.exit_code != 0
    assert not (tmp_path / "certs" / "key.pem").exists()


def test_cli_works_before_any_identity_exists(tmp_path: Path) -> None:
    app = create_app(instance_path=tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["--help"])
    assert result.exit_code == 0
    assert "keygen" in result.output
    assert "gen-cert" in result.output
    assert not (tmp_path / "instance" / "identity.txt").exists()


def test_identity_repr_hides_the_secret(instance_path: Path, runner: FlaskCliRunner) -> None:
    (identity,) = parse_identity_file((instance_path / "identity.txt").read_text())
    assert "AGE-SECRET-KEY" not in repr(identity)
    assert isinstance(identity, X25519Identity)

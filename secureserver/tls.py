"""TLS for a server that has no public name: its certificate and its TLS policy.

A file-sharing box on a LAN rarely has a certificate from a public CA, yet every byte must
travel over TLS. This module makes a small local CA and an ECDSA P-256 server certificate
whose subject alternative names list the host names and IP addresses clients will use, and
holds the policy (versions, cipher suites) that gunicorn applies to its TLS context.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import ssl
import typing as t
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

if t.TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
# Browsers refuse server certificates valid for longer than 398 days.
MAX_DAYS = 398


def _general_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _name_constraints(hosts: Sequence[str]) -> x509.NameConstraints:
    """Limit the CA to ``hosts``: even a stolen CA could not vouch for any other site."""
    permitted: list[x509.GeneralName] = []
    for name in _general_names(hosts):
        if isinstance(name, x509.IPAddress):
            permitted.append(x509.IPAddress(ipaddress.ip_network(name.value)))
        else:
            permitted.append(name)
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CertificateBundle:
    """What :func:`make_certificate` produces, as PEM.

    :param ca: the local CA certificate, for clients to trust (``curl --cacert``).
    :param chain: the server certificate followed by the CA, for the server to present.
    :param key: the server's private key.
    """

    ca: bytes
    chain: bytes
    key: bytes


def make_certificate(hosts: Sequence[str], days: int) -> CertificateBundle:
    """Make a one-off local CA and a server certificate for ``hosts`` signed by it.

    The CA's private key is never written anywhere: it signs this one certificate and is
    dropped, and its name constraints limit it to ``hosts``, so trusting ``ca.pem`` in a
    browser cannot be abused to impersonate other sites.

    :param hosts: DNS names and IP addresses; the first becomes the common name.
    :param days: validity from now, at most :data:`MAX_DAYS`.
    :raises ValueError: when ``hosts`` is empty or ``days`` is out of range.
    """
    if not hosts:
        raise ValueError("at least one host name or address is needed")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    now = datetime.datetime.now(datetime.UTC)
    not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"secureserver local CA {secrets.token_hex(4)}")]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(_name_constraints(hosts), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(_general_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return CertificateBundle(ca=_pem(ca), chain=_pem(server) + _pem(ca), key=key_pem)


# Mozilla's "intermediate" TLS 1.2 suites, ECDHE only (the certificate is ECDSA and no DH
# parameters are configured): every suite is an AEAD with forward secrecy. TLS 1.3 suites are
# all AEAD and are not affected by this string.
INTERMEDIATE_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def harden_server_context(context: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the server's TLS policy: TLS 1.2 at least, AEAD suites only, no compression."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(INTERMEDIATE_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context

"""X25519 recipients and identities: parsing, wrap/unwrap rules and identity files."""

from __future__ import annotations

import os

import pytest

from secureserver.crypto import InvalidKeyError
from secureserver.crypto import X25519Identity
from secureserver.crypto import X25519Recipient
from secureserver.crypto import bech32
from secureserver.crypto import parse_identity_file
from secureserver.crypto.errors import DecryptionError
from secureserver.crypto.format import Stanza
from secureserver.crypto.format import b64encode

SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
SECRET_PART = SPEC_IDENTITY[16:]


def test_spec_identity_has_spec_recipient() -> None:
    identity = X25519Identity.parse(SPEC_IDENTITY)
    assert str(identity) == SPEC_IDENTITY
    assert str(identity.recipient) == SPEC_RECIPIENT
    assert X25519Recipient.parse(SPEC_RECIPIENT) == identity.recipient


def test_repr_never_shows_the_secret() -> None:
    identity = X25519Identity.parse(SPEC_IDENTITY)
    assert repr(identity) == f"X25519Identity({SPEC_RECIPIENT})"
    assert SECRET_PART[:20] not in repr(identity)
    assert SECRET_PART[:20] not in repr([identity])


def test_generate_round_trips() -> None:
    identity = X25519Identity.generate()
    assert str(identity).startswith("AGE-SECRET-KEY-1")
    again = X25519Identity.parse(str(identity))
    assert again.recipient == identity.recipient
    assert str(identity.recipient).startswith("age1")
    assert X25519Identity.generate().recipient != identity.recipient


@pytest.mark.parametrize(
    "text",
    [
        SPEC_IDENTITY.lower(),  # age wants the uppercase form
        SPEC_RECIPIENT,  # wrong type
        bech32.encode("AGE-SECRET-KEY-", bytes(31)),  # wrong length
        bech32.encode("AGE-SECRET-KEY-PQ-", bytes(32)),  # other type
        SPEC_IDENTITY[:-1] + "A",  # checksum
        "",
    ],
)
def test_bad_identities(text: str) -> None:
    with pytest.raises(InvalidKeyError) as excinfo:
        X25519Identity.parse(text)
    assert SECRET_PART[:20] not in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        SPEC_RECIPIENT.upper(),
        SPEC_IDENTITY,  # a secret key pasted by mistake must not be echoed
        bech32.encode("age", bytes(33)),
        bech32.encode("age1pq", bytes(32)),
        SPEC_RECIPIENT[:-1] + "q",
    ],
)
def test_bad_recipients(text: str) -> None:
    with pytest.raises(InvalidKeyError) as excinfo:
        X25519Recipient.parse(text)
    assert SECRET_PART[:20] not in str(excinfo.value)


def test_wrap_unwrap() -> None:
    identity = X25519Identity.generate()
    file_key = os.urandom(16)
    first, second = identity.recipient.wrap(file_key), identity.recipient.wrap(file_key)
    assert first.type == "X25519" and len(first.args) == 1 and len(first.body) == 32
    assert first.args != second.args  # a fresh ephemeral secret per stanza
    assert identity.unwrap([first]) == file_key
    assert X25519Identity.generate().unwrap([first]) is None
    with pytest.raises(ValueError, match="16 bytes"):
        identity.recipient.wrap(bytes(32))


def test_unwrap_skips_other_types_and_other_recipients() -> None:
    identity, other = X25519Identity.generate(), X25519Identity.generate()
    file_key = os.urandom(16)
    stanzas = [
        Stanza("scrypt", ("salt", "18"), b"???"),  # ignored, however odd
        Stanza("x25519", (), b""),  # types are case-sensitive: ignored
        other.recipient.wrap(file_key),
        identity.recipient.wrap(file_key),
    ]
    assert identity.unwrap(stanzas) == file_key
    assert other.unwrap(stanzas) == file_key
    assert X25519Identity.generate().unwrap(stanzas) is None
    assert identity.unwrap([]) is None


def _good() -> tuple[X25519Identity, Stanza]:
    identity = X25519Identity.generate()
    return identity, identity.recipient.wrap(os.urandom(16))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: Stanza(s.type, (), s.body), "one argument"),
        (lambda s: Stanza(s.type, (*s.args, "x"), s.body), "one argument"),
        (lambda s: Stanza(s.type, (s.args[0] + "=",), s.body), "base64"),
        (lambda s: Stanza(s.type, (s.args[0][:-1] + "B",), s.body), "base64"),  # trailing bits
        (lambda s: Stanza(s.type, (b64encode(bytes(31)),), s.body), "32 bytes"),
        (lambda s: Stanza(s.type, (b64encode(bytes(33)),), s.body), "32 bytes"),
        (lambda s: Stanza(s.type, s.args, s.body[:-1]), "body"),
        (lambda s: Stanza(s.type, s.args, s.body + b"\x00"), "body"),
        (lambda s: Stanza(s.type, s.args, b""), "body"),
        (lambda s: Stanza(s.type, (b64encode(bytes(32)),), s.body), "low-order|all-zero"),
        (lambda s: Stanza(s.type, (b64encode(b"\x01" + bytes(31)),), s.body), "low-order|all-zero"),
    ],
)
def test_malformed_x25519_stanzas_are_fatal(mutate: object, message: str) -> None:
    identity, stanza = _good()
    with pytest.raises(DecryptionError, match=message):
        identity.unwrap([mutate(stanza)])  # type: ignore[operator]


def test_tampered_body_does_not_match() -> None:
    identity, stanza = _good()
    body = bytes([stanza.body[0] ^ 1]) + stanza.body[1:]
    assert identity.unwrap([Stanza(stanza.type, stanza.args, body)]) is None


# -- identity files --------------------------------------------------------------------------


def test_identity_file_as_written_by_age_keygen() -> None:
    other = X25519Identity.generate()
    text = (
        "# created: 2026-01-01T00:00:00Z\n"
        f"# public key: {SPEC_RECIPIENT}\n"
        f"{SPEC_IDENTITY}\n"
        "\n"
        f"#{other}\n"
        f"{other}\r\n"
    )
    identities = parse_identity_file(text)
    assert [str(i) for i in identities] == [SPEC_IDENTITY, str(other)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no identities"),
        ("# only a comment\n\n", "no identities"),
        (f"# ok\n {SPEC_IDENTITY}\n", "line 2: not an X25519"),
        (f"{SPEC_IDENTITY} \n", "line 1: malformed"),
        (f"{SPEC_IDENTITY.lower()}\n", "line 1: not an X25519"),
        (f"\n\n{SPEC_IDENTITY[:-1]}A\n", "line 3: malformed"),
        (
            "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR\n",
            "line 1",
        ),
        (f"{SPEC_RECIPIENT}\n", "line 1: not an X25519"),
    ],
)
def test_bad_identity_files(text: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message) as excinfo:
        parse_identity_file(text)
    assert SECRET_PART[:20].lower() not in str(excinfo.value).lower()

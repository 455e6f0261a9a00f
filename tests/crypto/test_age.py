"""Whole age files: known answers, round trips, tampering and interoperability with ``age``."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import typing as t
from pathlib import Path

import pytest

from secureserver.crypto import CHUNK_SIZE
from secureserver.crypto import DecryptionError
from secureserver.crypto import X25519Identity
from secureserver.crypto import decrypt
from secureserver.crypto import encrypt
from secureserver.crypto import encrypted_size
from secureserver.crypto import parse_identity_file
from secureserver.crypto.format import b64decode
from secureserver.crypto.format import parse_header
from secureserver.crypto.stream import ENCRYPTED_CHUNK_SIZE
from secureserver.crypto.stream import EncryptWriter
from secureserver.crypto.stream import payload_key

Seal = t.Callable[..., bytes]
MIB = 1024 * 1024
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 1, 3 * MIB + 7]
INTEROP_SIZES = [0, 1, 65536, 200_000, 3 * MIB + 7]

# Made with `age -r age1zvkyg2lq...` (age 1.1.1) for the spec identity of C2SP age.
KAT_FILE = base64.b64decode(
    "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBSM1FQdGgvcklsQjNBZEdaMkl6Y1l1NWM5Ly9CM0lxL0Ez"
    "SUoxU24wcHhFClgvMHRBdGd5WjBtS3NEVnV4RnFIS29EbVFSODNNdXY3dVpqMUFLWjVWbDQKLS0tIERsZ0FKUUFD"
    "VWRhSUJUUjdId2EyUHFITnVsWmEzSStxUGZrUXRoVVoxZm8KJDMD33DE5jFGNyq3lqmfrrxTpw1wGMRgSZhu7LX5"
    "L5v+pGpyRDW9tNEqI/PgL4EjXM7z9GunE3dN4obO2eR/ony3KdqHTNOyRMxolgU="
)
KAT_PLAINTEXT = b"secureserver known answer: made by age 1.1.1\n"


def test_known_answer_from_age_cli(spec_identity: X25519Identity) -> None:
    reader = decrypt([spec_identity], io.BytesIO(KAT_FILE))
    assert b"".join(reader.chunks()) == KAT_PLAINTEXT
    assert reader.plaintext_size == len(KAT_PLAINTEXT)
    mac_line = KAT_FILE[: reader.header_size].rsplit(b"\n", 2)[-2]
    assert reader.header_mac == b64decode(mac_line[4:].decode())


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(size: int, seal: Seal, identity: X25519Identity) -> None:
    plaintext = os.urandom(size)
    blob = seal(plaintext, 100_000)
    reader = decrypt([identity], io.BytesIO(blob))
    assert reader.plaintext_size == size
    assert reader.chunk_count == max(1, -(-size // CHUNK_SIZE))
    assert b"".join(reader.chunks()) == plaintext
    assert len(blob) == reader.header_size + 16 + encrypted_size(size)
    for start in range(reader.chunk_count):
        assert b"".join(reader.chunks(start)) == plaintext[start * CHUNK_SIZE :]


def test_header_mac_and_size_match_the_header(identity: X25519Identity) -> None:
    sink = io.BytesIO()
    with encrypt([identity.recipient], sink) as writer:
        writer.write(b"hello")
    blob = sink.getvalue()
    parsed = parse_header(io.BytesIO(blob))
    assert writer.header_mac == parsed.mac
    assert writer.header_size == parsed.size
    assert blob[parsed.size - 45 : parsed.size - 44] == b" "  # "--- " + 43 + "\n"
    assert decrypt([identity], io.BytesIO(blob)).header_mac == writer.header_mac


def test_pinned_file_key_and_nonce_give_the_stream_payload(identity: X25519Identity) -> None:
    file_key, nonce = bytes(range(16)), bytes(range(16, 32))
    plaintext = os.urandom(2 * CHUNK_SIZE + 5)
    sink = io.BytesIO()
    with encrypt([identity.recipient], sink, file_key=file_key, nonce=nonce) as writer:
        writer.write(plaintext)
    expected = io.BytesIO()
    payload = EncryptWriter(expected, payload_key(file_key, nonce))
    payload.write(plaintext)
    payload.close()
    blob = sink.getvalue()
    assert blob[writer.header_size :] == nonce + expected.getvalue()


def test_several_recipients(seal: Seal, other_identity: X25519Identity) -> None:
    mine, theirs = X25519Identity.generate(), other_identity
    blob = seal(b"shared", None, [mine.recipient, theirs.recipient])
    for identity in (mine, theirs):
        assert b"".join(decrypt([identity], io.BytesIO(blob)).chunks()) == b"shared"
    stranger = X25519Identity.generate()
    assert b"".join(decrypt([stranger, theirs], io.BytesIO(blob)).chunks()) == b"shared"


def test_wrong_identity(seal: Seal, other_identity: X25519Identity) -> None:
    with pytest.raises(DecryptionError, match="no identity matched"):
        decrypt([other_identity], io.BytesIO(seal(b"secret")))


def test_argument_errors(identity: X25519Identity) -> None:
    with pytest.raises(ValueError, match="no recipients"):
        encrypt([], io.BytesIO())
    with pytest.raises(ValueError, match="16 bytes"):
        encrypt([identity.recipient], io.BytesIO(), file_key=bytes(32))
    with pytest.raises(ValueError, match="16 bytes"):
        encrypt([identity.recipient], io.BytesIO(), nonce=bytes(12))
    with pytest.raises(ValueError, match="no identities"):
        decrypt([], io.BytesIO())


def test_exception_in_with_block_leaves_the_file_unsealed(
    identity: X25519Identity, unseal: Seal
) -> None:
    sink = io.BytesIO()
    with pytest.raises(RuntimeError), encrypt([identity.recipient], sink) as writer:
        writer.write(os.urandom(3 * CHUNK_SIZE))
        raise RuntimeError("upload aborted")
    assert not writer.closed
    with pytest.raises(DecryptionError):
        unseal(sink.getvalue())


def test_source_at_an_offset_and_on_disk(
    seal: Seal, identity: X25519Identity, tmp_path: Path
) -> None:
    plaintext = os.urandom(CHUNK_SIZE + 10)
    blob = seal(plaintext)
    source = io.BytesIO(b"prefix" + blob)
    source.seek(6)
    assert b"".join(decrypt([identity], source).chunks()) == plaintext
    path = tmp_path / "blob.age"
    path.write_bytes(blob)
    with open(path, "rb") as f:
        assert b"".join(decrypt([identity], f).chunks(1)) == plaintext[CHUNK_SIZE:]


# -- tampering -------------------------------------------------------------------------------


def flip(data: bytes, pos: int, bit: int = 0x01) -> bytes:
    return data[:pos] + bytes([data[pos] ^ bit]) + data[pos + 1 :]


def test_every_header_byte_is_authenticated(seal: Seal, unseal: Seal) -> None:
    blob = seal(b"small file")
    header_size = parse_header(io.BytesIO(blob)).size
    for pos in range(header_size):
        for bit in (0x01, 0x80):
            with pytest.raises(DecryptionError):
                unseal(flip(blob, pos, bit))


def _first_letter(line: bytes) -> int:
    return next(i for i, c in enumerate(line[:40]) if chr(c).isalpha())


def test_header_tamper_messages(seal: Seal, unseal: Seal) -> None:
    blob = seal(b"small file")
    version, args, body, mac = blob.split(b"\n")[:4]
    # Changing the case of a letter keeps the base64 valid but changes the value.
    body_pos = len(version) + len(args) + 2 + _first_letter(body)
    with pytest.raises(DecryptionError, match="no identity matched"):
        unseal(flip(blob, body_pos, 0x20))
    share_pos = len(version) + 1 + len(b"-> X25519 ") + _first_letter(args[10:])
    with pytest.raises(DecryptionError, match="no identity matched"):
        unseal(flip(blob, share_pos, 0x20))
    mac_pos = len(version) + len(args) + len(body) + 3 + 4 + _first_letter(mac[4:])
    with pytest.raises(DecryptionError, match="bad header MAC"):
        unseal(flip(blob, mac_pos, 0x20))


def test_payload_tamper(seal: Seal, unseal: Seal) -> None:
    blob = seal(os.urandom(3 * CHUNK_SIZE + 100))
    payload_start = parse_header(io.BytesIO(blob)).size
    positions = [payload_start, payload_start + 15]  # the nonce
    for chunk in range(4):
        start = payload_start + 16 + chunk * ENCRYPTED_CHUNK_SIZE
        positions += [start, start + 50, start + 99]
    for pos in positions:
        with pytest.raises(DecryptionError):
            unseal(flip(blob, pos))


@pytest.mark.parametrize("cut", [1, 16, 116, 117, ENCRYPTED_CHUNK_SIZE + 116])
def test_truncated_or_extended_payload_fails_at_open(
    cut: int, seal: Seal, identity: X25519Identity
) -> None:
    blob = seal(os.urandom(3 * CHUNK_SIZE + 100))
    for damaged in (blob[:-cut], blob + os.urandom(cut)):
        # The final chunk is checked before decrypt() returns, so a server can refuse the
        # file before it sends a status line and a Content-Length.
        with pytest.raises(DecryptionError):
            decrypt([identity], io.BytesIO(damaged))


def test_missing_final_chunk_at_boundary(seal: Seal, identity: X25519Identity) -> None:
    blob = seal(os.urandom(3 * CHUNK_SIZE))
    with pytest.raises(DecryptionError, match="final"):
        decrypt([identity], io.BytesIO(blob[:-ENCRYPTED_CHUNK_SIZE]))


@pytest.mark.parametrize("keep", [0, 10, 15])
def test_truncated_nonce(keep: int, seal: Seal, unseal: Seal) -> None:
    blob = seal(b"")
    header_size = parse_header(io.BytesIO(blob)).size
    with pytest.raises(DecryptionError, match="nonce"):
        unseal(blob[: header_size + keep])


# -- interoperability with the age CLI --------------------------------------------------------


def run(*args: str | Path, stdin: bytes | None = None) -> bytes:
    done = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.mark.parametrize("size", INTEROP_SIZES)
def test_age_cli_decrypts_our_files(
    size: int,
    seal: Seal,
    identity: X25519Identity,
    age_cli: dict[str, str],
    tmp_path: Path,
    write_identity_file: t.Callable[[X25519Identity], Path],
) -> None:
    plaintext = os.urandom(size)
    blob = tmp_path / "blob.age"
    blob.write_bytes(seal(plaintext, 65536 + 3))
    keys = write_identity_file(identity)
    assert run(age_cli["age"], "-d", "-i", keys, blob) == plaintext


@pytest.mark.parametrize("size", INTEROP_SIZES)
def test_we_decrypt_age_cli_files(size: int, age_cli: dict[str, str], tmp_path: Path) -> None:
    keys = tmp_path / "key.txt"
    run(age_cli["age-keygen"], "-o", keys)
    identities = parse_identity_file(keys.read_text())
    public = run(age_cli["age-keygen"], "-y", keys).decode().strip()
    assert [str(i.recipient) for i in identities] == [public]
    plaintext = os.urandom(size)
    (tmp_path / "in").write_bytes(plaintext)
    other = str(X25519Identity.generate().recipient)
    run(age_cli["age"], "-r", other, "-r", public, "-o", tmp_path / "out.age", tmp_path / "in")
    with open(tmp_path / "out.age", "rb") as f:
        reader = decrypt(identities, f)
        assert reader.plaintext_size == size
        assert b"".join(reader.chunks()) == plaintext


def test_age_cli_accepts_our_identity_file_and_recipient(
    age_cli: dict[str, str],
    tmp_path: Path,
    write_identity_file: t.Callable[[X25519Identity], Path],
) -> None:
    identity = X25519Identity.generate()
    keys = write_identity_file(identity)
    assert run(age_cli["age-keygen"], "-y", keys).decode().strip() == str(identity.recipient)
    blob = run(age_cli["age"], "-r", str(identity.recipient), stdin=b"from the CLI")
    assert b"".join(decrypt([identity], io.BytesIO(blob)).chunks()) == b"from the CLI"
    assert run(age_cli["age"], "-d", "-i", keys, stdin=blob) == b"from the CLI"


def test_derived_keys_are_per_file_and_survive_decryption(identity: X25519Identity) -> None:
    sink = io.BytesIO()
    writer = encrypt([identity.recipient], sink)
    writer.write(b"data")
    writer.close()
    reader = decrypt([identity], io.BytesIO(sink.getvalue()))
    assert reader.derive_key(b"test/v1") == writer.derive_key(b"test/v1")
    assert reader.derive_key(b"test/v1") != reader.derive_key(b"test/v2")
    other = encrypt([identity.recipient], io.BytesIO())
    assert other.derive_key(b"test/v1") != writer.derive_key(b"test/v1")
    with pytest.raises(ValueError, match="age itself"):
        writer.derive_key(b"payload")

"""FieldCipher: sealed metadata opens only in its own cell, under a loaded key."""

from __future__ import annotations

import os

import pytest

from secureserver.fieldcipher import HEADER_SIZE
from secureserver.fieldcipher import FieldCipher
from secureserver.fieldcipher import FieldDecryptionError

KEY = os.urandom(32)


def test_round_trip_with_fresh_nonces() -> None:
    cipher = FieldCipher([KEY])
    first = cipher.seal("résumé.pdf", row="id1", column="name")
    second = cipher.seal("résumé.pdf", row="id1", column="name")
    assert first != second
    assert cipher.open(first, row="id1", column="name") == "résumé.pdf"
    assert "résumé".encode() not in first


@pytest.mark.parametrize(
    ("row", "column"), [("id2", "name"), ("id1", "content_type"), ("id1", "name\x00")]
)
def test_value_moved_to_another_cell_does_not_open(row: str, column: str) -> None:
    cipher = FieldCipher([KEY])
    sealed = cipher.seal("a.txt", row="id1", column="name")
    with pytest.raises(FieldDecryptionError):
        cipher.open(sealed, row=row, column=column)


@pytest.mark.parametrize("position", [0, 1, HEADER_SIZE - 1, HEADER_SIZE, -1])
def test_any_flipped_byte_is_refused(position: int) -> None:
    cipher = FieldCipher([KEY])
    sealed = bytearray(cipher.seal("a.txt", row="r", column="name"))
    sealed[position] ^= 0x01
    with pytest.raises(FieldDecryptionError):
        cipher.open(bytes(sealed), row="r", column="name")


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x02" + bytes(40)])
def test_malformed_values_are_refused(sealed: bytes) -> None:
    with pytest.raises(FieldDecryptionError):
        FieldCipher([KEY]).open(sealed, row="r", column="name")


def test_old_keys_still_open_while_the_new_key_seals() -> None:
    old, new = FieldCipher([KEY]), FieldCipher([os.urandom(32), KEY])
    sealed_before = old.seal("kept.txt", row="r", column="name")
    assert new.open(sealed_before, row="r", column="name") == "kept.txt"
    sealed_after = new.seal("new.txt", row="r", column="name")
    with pytest.raises(FieldDecryptionError, match="not loaded"):
        old.open(sealed_after, row="r", column="name")

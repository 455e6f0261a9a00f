"""Bech32: BIP173 vectors, the age changes to it, and the spec's example keys."""

from __future__ import annotations

import os

import pytest

from secureserver.crypto import bech32
from secureserver.crypto.bech32 import Bech32Error

# The X25519 example keys of C2SP age, "The X25519 recipient type".
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

BIP173_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
    # Longer than the 90 characters BIP173 allows, which age does not limit.
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
]

BIP173_INVALID = [
    "\x201nwldj5",  # HRP character out of range
    "\x7f1axkwrx",  # HRP character out of range
    "\x801eym55h",  # HRP character out of range
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # checksum too short
    "de1lg7wt\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum computed over the uppercase HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e2w",  # bad checksum
    "split1cheo2y9e2w",  # "o" is not in the alphabet
    "s lit1checkupstagehandshakeupstreamerranterredcaperredp8hs2p",  # space in HRP
]


# An independent transcription of the BIP173 reference code, to cross-check the module.
def _ref_polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def _ref_encode_symbols(hrp: str, symbols: list[int]) -> str:
    expanded = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    polymod = _ref_polymod(expanded + symbols + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(bech32.CHARSET[d] for d in symbols + checksum)


def _ref_to_symbols(data: bytes) -> list[int]:
    bits = "".join(f"{byte:08b}" for byte in data)
    bits += "0" * (-len(bits) % 5)
    return [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]


@pytest.mark.parametrize("s", BIP173_VALID)
def test_bip173_valid_round_trips(s: str) -> None:
    hrp, data = bech32.decode(s)
    assert hrp == s[: s.rfind("1")]
    assert bech32.encode(hrp, data) == s


@pytest.mark.parametrize("s", BIP173_INVALID)
def test_bip173_invalid(s: str) -> None:
    with pytest.raises(Bech32Error):
        bech32.decode(s)


@pytest.mark.parametrize(
    "s", ["A12uEL5L", "a12UEL5L", "Age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzry"]
)
def test_mixed_case_rejected(s: str) -> None:
    with pytest.raises(Bech32Error, match="mixed-case"):
        bech32.decode(s)


def test_mixed_case_hrp_rejected_by_encode() -> None:
    with pytest.raises(Bech32Error):
        bech32.encode("Age", b"x")


@pytest.mark.parametrize("hrp", ["", "a b", "\x7f"])
def test_invalid_hrp_rejected_by_encode(hrp: str) -> None:
    with pytest.raises(Bech32Error):
        bech32.encode(hrp, b"x")


@pytest.mark.parametrize(
    ("symbols", "reason"),
    [
        ([31], "superfluous"),  # 5 bits: no whole byte at all
        ([0, 1], "non-zero"),  # a byte, then 2 leftover bits that are not zero
        ([0] * 9, "superfluous"),  # 45 bits: 5 bytes and a whole spare symbol
    ],
)
def test_bad_padding_rejected(symbols: list[int], reason: str) -> None:
    with pytest.raises(Bech32Error, match=reason):
        bech32.decode(_ref_encode_symbols("age", symbols))


def test_zero_padding_accepted() -> None:
    assert bech32.decode(_ref_encode_symbols("age", [0, 0])) == ("age", b"\x00")


@pytest.mark.parametrize("size", [0, 1, 2, 5, 31, 32, 33, 200, 1216])
def test_matches_reference_encoder(size: int) -> None:
    data = os.urandom(size)
    expected = _ref_encode_symbols("age", _ref_to_symbols(data))
    assert bech32.encode("age", data) == expected
    assert bech32.encode("AGE", data) == expected.upper()
    assert bech32.decode(expected) == ("age", data)
    assert bech32.decode(expected.upper()) == ("AGE", data)


def test_error_messages_do_not_quote_the_input() -> None:
    secret = SPEC_IDENTITY[:-1] + ("X" if SPEC_IDENTITY[-1] != "X" else "Y")
    with pytest.raises(Bech32Error) as excinfo:
        bech32.decode(secret)
    assert SPEC_IDENTITY[16:40] not in str(excinfo.value)


def test_spec_keys_known_answer() -> None:
    hrp, secret = bech32.decode(SPEC_IDENTITY)
    assert hrp == "AGE-SECRET-KEY-"
    assert len(secret) == 32
    assert bech32.encode(hrp, secret) == SPEC_IDENTITY
    hrp, public = bech32.decode(SPEC_RECIPIENT)
    assert hrp == "age"
    assert len(public) == 32
    assert bech32.encode(hrp, public) == SPEC_RECIPIENT

"""Bech32 encoding of age keys, as referenced by C2SP age, "Conventions used in this document".

This is BIP173 Bech32 with two changes the age spec makes: there is no 90-character limit
(the post-quantum keys are far longer), and the data part carries 8-bit bytes, regrouped into
5-bit symbols with zero padding. A string is either all lowercase or all uppercase, and the
checksum is always computed over the lowercase form.

Error messages name positions, never characters: the same decoder reads secret keys.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
SEPARATOR = "1"
CHECKSUM_LENGTH = 6

_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_VALUES = {c: i for i, c in enumerate(CHARSET)}


class Bech32Error(ValueError):
    """A string is not valid Bech32, or data cannot be encoded as Bech32."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if top >> i & 1:
                chk ^= generator
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    codes = [ord(c) for c in hrp.lower()]
    return [c >> 5 for c in codes] + [0] + [c & 31 for c in codes]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    mask = (1 << to_bits) - 1
    # Keep only the bits not yet emitted, so the accumulator stays a small integer.
    acc_mask = (1 << (from_bits + to_bits - 1)) - 1
    for value in data:
        acc = (acc << from_bits | value) & acc_mask
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append(acc >> bits & mask)
    if pad:
        if bits:
            out.append(acc << (to_bits - bits) & mask)
    elif bits >= from_bits:
        # A whole spare symbol means the encoder added padding it did not need.
        raise Bech32Error("invalid Bech32 padding: superfluous symbol")
    elif acc << (to_bits - bits) & mask:
        raise Bech32Error("invalid Bech32 padding: non-zero bits")
    return out


def _check_hrp(hrp: str) -> None:
    if not hrp:
        raise Bech32Error("empty Bech32 human-readable part")
    for i, c in enumerate(hrp):
        if not 33 <= ord(c) <= 126:
            raise Bech32Error(f"invalid character in Bech32 human-readable part at {i}")
    if hrp != hrp.lower() and hrp != hrp.upper():
        raise Bech32Error("mixed-case Bech32 human-readable part")


def encode(hrp: str, data: bytes) -> str:
    """Encode bytes as Bech32, in uppercase when ``hrp`` is uppercase.

    :param hrp: the human-readable part, for example ``"age"`` or ``"AGE-SECRET-KEY-"``.
    :param data: the bytes to encode; any length.
    :raises Bech32Error: if ``hrp`` is empty, mixed-case or has a character outside 33..126.
    """
    _check_hrp(hrp)
    lower_hrp = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    mod = _polymod([*_hrp_expand(lower_hrp), *values, *[0] * CHECKSUM_LENGTH]) ^ 1
    checksum = [mod >> 5 * (CHECKSUM_LENGTH - 1 - i) & 31 for i in range(CHECKSUM_LENGTH)]
    encoded = lower_hrp + SEPARATOR + "".join(CHARSET[v] for v in [*values, *checksum])
    return encoded if hrp == lower_hrp else encoded.upper()


def decode(s: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into its human-readable part and its bytes.

    The human-readable part is returned in the case of the input, so that callers can insist
    on ``"age"`` for recipients and ``"AGE-SECRET-KEY-"`` for identities, as age does.

    :param s: the string, all lowercase or all uppercase.
    :raises Bech32Error: on mixed case, a misplaced separator, a character outside the
        alphabet, a bad checksum or bad padding.
    """
    if s != s.lower() and s != s.upper():
        raise Bech32Error("mixed-case Bech32 string")
    pos = s.rfind(SEPARATOR)
    if pos < 1 or pos + 1 + CHECKSUM_LENGTH > len(s):
        raise Bech32Error("Bech32 separator missing or at an invalid position")
    hrp = s[:pos]
    _check_hrp(hrp)
    symbols: list[int] = []
    for i, c in enumerate(s[pos + 1 :].lower(), start=pos + 1):
        value = _VALUES.get(c)
        if value is None:
            raise Bech32Error(f"invalid character in Bech32 data part at {i}")
        symbols.append(value)
    if _polymod([*_hrp_expand(hrp), *symbols]) != 1:
        raise Bech32Error("invalid Bech32 checksum")
    return hrp, bytes(_convert_bits(symbols[:-CHECKSUM_LENGTH], 5, 8, pad=False))

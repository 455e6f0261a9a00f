"""What clients say about their files, made safe: names, media types, and the download header.

Every name here is hostile input. A name is only ever a label: it is stored and shown (HTML
escaped by Jinja), never used to build a path; blobs are named by random ids. Cleaning still
matters, for the people who read the list and the browsers that save the file.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
MAX_EXTENSION_CHARS = 16
FALLBACK_NAME = "unnamed"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# type "/" subtype, both RFC 9110 tokens; parameters (charset=...) are dropped.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")
# Characters that may appear in a quoted-string fallback without escaping.
_SAFE_ASCII = re.compile(r"[\x20-\x7e]")


def clean_filename(raw: str) -> str:
    """Turn a client-supplied file name into a safe display name.

    Keeps only the last path component (``/`` and ``\\`` both count), drops line breaks and
    control, format and unassigned characters (NUL, bidi overrides), folds other whitespace
    to spaces, normalises to NFC and caps the UTF-8 length, keeping the extension.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(_clean_char(ch) for ch in name)
    # Normalise after removing characters: a removed one may have separated a base letter
    # from its combining accent.
    name = unicodedata.normalize("NFC", name).strip()
    if name in ("", ".", ".."):
        return FALLBACK_NAME
    return _truncate(name, MAX_NAME_BYTES)


def _clean_char(ch: str) -> str:
    if ch in "\r\n":
        return ""
    if ch.isspace():
        return " "
    if unicodedata.category(ch).startswith("C"):
        return ""
    return ch


def _truncate(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION_CHARS:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    budget = max_bytes - len(suffix.encode("utf-8"))
    return stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip() + suffix


def clean_content_type(raw: str | None) -> str:
    """Keep a plausible ``type/subtype`` from a client's Content-Type, else the binary default."""
    if raw:
        essence = raw.split(";", 1)[0].strip().lower()
        if _MEDIA_TYPE.fullmatch(essence):
            return essence
    return DEFAULT_CONTENT_TYPE


def content_disposition(name: str) -> str:
    """Build an RFC 6266 ``attachment`` header value for ``name``.

    Old clients read the quoted ASCII ``filename=``; everyone else reads ``filename*=``,
    which carries the exact UTF-8 name and is sent whenever the two differ.
    """
    fallback = _ascii_fallback(name)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    chars = (
        ch if _SAFE_ASCII.fullmatch(ch) and ch not in '"\\/' else "_"
        for ch in decomposed
        if not unicodedata.combining(ch)
    )
    return "".join(chars) or FALLBACK_NAME

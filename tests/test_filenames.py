"""Client-supplied names and media types made safe, and the Content-Disposition built from them."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from secureserver.filenames import clean_content_type
from secureserver.filenames import clean_filename
from secureserver.filenames import content_disposition

# Hypothesis writes caches while pytest collects this module; keep them out of the checkout,
# as ``-p no:cacheprovider`` does for pytest's own cache.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "secureserver-hypothesis")

OCTET_STREAM = "application/octet-stream"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/path", "path"),
        ("C:\\Users\\me\\a.txt", "a.txt"),
        ("mixed/..\\x.txt", "x.txt"),
        ("", "unnamed"),
        (".", "unnamed"),
        ("..", "unnamed"),
        ("   ", "unnamed"),
        ("dir/", "unnamed"),
        ("dir/..", "unnamed"),
        ("\x00\r\n", "unnamed"),
        ("\u202e", "unnamed"),
    ],
)
def test_path_components_and_fallback(raw: str, cleaned: str) -> None:
    assert clean_filename(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("a\rb.txt", "ab.txt"),
        ("a\nb.txt", "ab.txt"),
        ("a\r\nb.txt", "ab.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("a\x1bb.txt", "ab.txt"),
        ("a\x7fb.txt", "ab.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("a\u200bb.txt", "ab.txt"),
        ("\ufeffbom.txt", "bom.txt"),
        ("a\ud800b.txt", "ab.txt"),
        ("a\tb.txt", "a b.txt"),
        ("a\u2028b.txt", "a b.txt"),
        ("a\u2029b.txt", "a b.txt"),
        ("a\u00a0b.txt", "a b.txt"),
        ("a\u3000b.txt", "a b.txt"),
        ("  padded.txt\u2003", "padded.txt"),
    ],
)
def test_control_and_whitespace(raw: str, cleaned: str) -> None:
    assert clean_filename(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("e\u0301.txt", "\u00e9.txt"),
        ("A\u030a.txt", "\u00c5.txt"),
        ("\u212b.txt", "\u00c5.txt"),
        ("\u00e9.txt", "\u00e9.txt"),
        # Removing a format character must not leave a name that is no longer NFC.
        ("e\u200b\u0301.txt", "\u00e9.txt"),
    ],
)
def test_nfc(raw: str, cleaned: str) -> None:
    assert clean_filename(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("a" * 255, "a" * 255),
        ("a" * 4096, "a" * 255),
        ("a" * 4096 + ".txt", "a" * 251 + ".txt"),
        ("\u00e9" * 4096 + ".txt", "\u00e9" * 125 + ".txt"),
        ("\U0001f600" * 1024 + ".tar", "\U0001f600" * 62 + ".tar"),
        ("\u20ac" * 4096, "\u20ac" * 85),
        ("a" * 300 + "." + "b" * 17, "a" * 255),
        ("a" * 100 + " " * 200 + ".txt", "a" * 100 + ".txt"),
    ],
    ids=["exact", "ascii", "extension", "two-byte", "four-byte", "three-byte", "long-ext", "space"],
)
def test_length_cap(raw: str, cleaned: str) -> None:
    result = clean_filename(raw)
    assert result == cleaned
    assert len(result.encode("utf-8")) <= 255


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("text/plain", "text/plain"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("Text/HTML", "text/html"),
        ("  image/png  ", "image/png"),
        ("application/vnd.api+json", "application/vnd.api+json"),
        ("image/svg+xml", "image/svg+xml"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
        (None, OCTET_STREAM),
        ("", OCTET_STREAM),
        ("garbage", OCTET_STREAM),
        ("text/", OCTET_STREAM),
        ("/plain", OCTET_STREAM),
        ("text/plain text", OCTET_STREAM),
        ("a/b/c", OCTET_STREAM),
        ("text/plain\r\nX-Evil: 1", OCTET_STREAM),
        ("t\u00e9xt/plain", OCTET_STREAM),
        ("a" * 65 + "/b", OCTET_STREAM),
    ],
)
def test_content_type(raw: str | None, kept: str) -> None:
    assert clean_content_type(raw) == kept


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("a;b=c.txt", 'attachment; filename="a;b=c.txt"'),
        (
            "r\u00e9sum\u00e9.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "\u65e5\u672c.txt",
            "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
        ),
        (
            'say "hi".txt',
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        ("a\\b.txt", "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%5Cb.txt"),
        ("\ufb01le.txt", "attachment; filename=\"file.txt\"; filename*=UTF-8''%EF%AC%81le.txt"),
        ("\U0001f600", "attachment; filename=\"_\"; filename*=UTF-8''%F0%9F%98%80"),
    ],
)
def test_content_disposition(name: str, header: str) -> None:
    assert content_disposition(name) == header


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=1", "a\nb", "a\x00b", "\u2028", "\x85"])
def test_content_disposition_never_breaks_the_header(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert "\x00" not in header


NAME_PARTS = st.one_of(
    st.sampled_from(list("/\\.\r\n\x00\t \u202e\u0301\u200b")),
    st.characters(),
)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.text(NAME_PARTS, max_size=1200))
def test_clean_filename_property(raw: str) -> None:
    name = clean_filename(raw)
    assert name
    assert name not in (".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert len(name.encode("utf-8")) <= 255
    assert name == name.strip()


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(st.text(NAME_PARTS, max_size=1200))
def test_content_disposition_property(raw: str) -> None:
    header = content_disposition(clean_filename(raw))
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('attachment; filename="')
    header.encode("latin-1")

"""Property tests of the multipart reader: random bodies, random reads, exact round trips.

``test_multipart.py`` pins known shapes; here Hypothesis builds them. Whatever the body and
however the server's reads split it, the reader either returns the parts or raises
:class:`MalformedBody` / :class:`FormTooLarge`, and the outcome does not depend on where the
reads were split. Well-formed forms, with data built to look like delimiters, come back
byte for byte.
"""

from __future__ import annotations

import tempfile
import typing as t
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from secureserver.multipart import FormTooLarge
from secureserver.multipart import MalformedBody
from secureserver.multipart import MultipartReader

if t.TYPE_CHECKING:
    from collections.abc import Iterator

# Keep Hypothesis's files out of the checkout (as test_filenames.py does).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "secureserver-hypothesis")

BOUNDARY = b"fuzz-Boundary"
DELIMITER = b"\r\n--" + BOUNDARY
LIMITS = {"max_field_size": 64, "max_parts": 6, "max_header_size": 256}
# Deterministic, and without shrinking: a failure is reported as found, in bounded time
# (shrinking a multipart body can take Hypothesis its full five-minute budget).
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Pieces that make bodies look like multipart, so random ones get past the first checks.
TOKENS = [
    b"--" + BOUNDARY,
    b"--" + BOUNDARY + b"--",
    b"--" + BOUNDARY[:-1],
    b"\r\n",
    b"\r",
    b"\n",
    b"--",
    b"-",
    b"\r\n\r\n",
    b'Content-Disposition: form-data; name="file"; filename="f.bin"',
    b'Content-Disposition: form-data; name="note"',
    b"Content-Disposition: form-data; name=file; filename*=UTF-8''%C3%A9",
    b"Content-Type: text/plain",
    b'"',
    b"\\",
    b";",
    b"\x00",
    b"\xff",
    b" ",
]
noise = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=12)), max_size=40).map(
    b"".join
)
read_sizes = st.lists(st.integers(1, 40), min_size=1, max_size=6)


def _reads(data: bytes, sizes: list[int] | None) -> Iterator[bytes]:
    if sizes is None:
        yield data
        return
    position, turn = 0, 0
    while position < len(data):
        size = sizes[turn % len(sizes)]
        yield data[position : position + size]
        position, turn = position + size, turn + 1


def _outcome(data: bytes, sizes: list[int] | None) -> object:
    """The parts and fields, or the kind of error; any other exception fails the test."""
    reader = MultipartReader(_reads(data, sizes), BOUNDARY, **LIMITS)
    try:
        files = [
            (p.field_name, p.filename, p.content_type, b"".join(p.chunks)) for p in reader.files()
        ]
    except (MalformedBody, FormTooLarge) as e:
        return type(e)
    return files, reader.fields


# Each limit, exceeded by a body that one large read carries whole: it must be refused as
# it is when the same bytes arrive in small reads.
PART_HEADERS_OVER_THE_LIMIT = (
    b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n\r\nx\r\n--%s--'
    % (BOUNDARY, b"a" * 300, BOUNDARY)
)
PADDED_BOUNDARY_LINE = (
    b'--%s%s\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--%s--'
    % (BOUNDARY, b" " * 300, BOUNDARY)
)
LONG_PREAMBLE = b"%s\r\n--%s--" % (b"p" * (64 * 1024 + 1), BOUNDARY)


@SETTINGS
@given(body=noise, sizes=read_sizes)
@example(body=PART_HEADERS_OVER_THE_LIMIT, sizes=[7])
@example(body=PADDED_BOUNDARY_LINE, sizes=[7])
@example(body=LONG_PREAMBLE, sizes=[4096])
def test_any_body_fails_only_cleanly_and_the_same_whatever_the_reads(
    body: bytes, sizes: list[int]
) -> None:
    # A limit must not hold for some splits of a body and not for others: the server's
    # reads can end anywhere (and are 1 MiB by default), so one large read must not carry
    # what small ones may not.
    assert _outcome(body, sizes) == _outcome(body, None)


def _quoted(value: str) -> bytes:
    return b'"' + value.replace('"', '\\"').encode() + b'"'


# Browsers percent-encode CR, LF and quotes in names; backslashes would be ambiguous next to
# an escaped quote, so the generated names leave them out and keep everything else.
name_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\\"),
    min_size=1,
    max_size=20,
)
tricky_data = st.lists(
    st.one_of(
        st.sampled_from([b"\r", b"\n", b"\r\n", b"-", b"--", DELIMITER[:-1], b"--" + BOUNDARY]),
        st.binary(max_size=30),
    ),
    max_size=20,
).map(b"".join)
file_parts = st.tuples(
    st.just("file"),
    name_text,
    st.one_of(st.none(), st.sampled_from(["text/plain", "application/x-fuzz", "image/png"])),
    tricky_data,
)
field_parts = st.tuples(
    st.sampled_from(["note", "csrf_token", "x"]),
    st.none(),
    st.none(),
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


def _body(parts: list[tuple[str, str | None, str | None, bytes]], preamble: bytes) -> bytes:
    body = preamble + b"\r\n" if preamble else b""
    for name, filename, content_type, data in parts:
        disposition = b"form-data; name=" + _quoted(name)
        if filename is not None:
            disposition += b"; filename=" + _quoted(filename)
        body += b"--%s\r\nContent-Disposition: %s\r\n" % (BOUNDARY, disposition)
        if content_type is not None:
            body += b"Content-Type: %s\r\n" % content_type.encode()
        body += b"\r\n" + data + b"\r\n"
    return body + b"--%s--\r\n" % BOUNDARY


@SETTINGS
@given(
    parts=st.lists(st.one_of(file_parts, field_parts), max_size=LIMITS["max_parts"]),
    preamble=st.sampled_from([b"", b"a preamble", b"--" + BOUNDARY[:-1]]),
    sizes=st.one_of(st.none(), read_sizes),
)
def test_well_formed_forms_round_trip_exactly(
    parts: list[tuple[str, str | None, str | None, bytes]], preamble: bytes, sizes: list[int] | None
) -> None:
    # A client picks a boundary that its data does not contain.
    assume(all(DELIMITER not in data for *_, data in parts))
    assume(all(_valid_field(data) for _, filename, _, data in parts if filename is None))
    files, fields = t.cast(
        tuple[list[t.Any], dict[str, str]], _outcome(_body(parts, preamble), sizes)
    )
    assert files == [part for part in parts if part[1] is not None]
    expected_fields: dict[str, str] = {}
    for name, filename, _, data in parts:
        if filename is None:
            expected_fields[name] = data.decode("utf-8")
    assert fields == expected_fields


def _valid_field(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(data) <= LIMITS["max_field_size"]


@settings(SETTINGS, max_examples=200)
@given(
    parts=st.lists(file_parts, min_size=1, max_size=3),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3), st.integers(0, 3))),
    sizes=read_sizes,
)
def test_mutated_forms_fail_only_cleanly(
    parts: list[tuple[str, str | None, str | None, bytes]],
    edits: list[tuple[int, bytes, int]],
    sizes: list[int],
) -> None:
    body = bytearray(_body(parts, b""))
    for position, insert, delete in edits:
        at = position % (len(body) + 1)
        body[at : at + delete] = insert
    assert _outcome(bytes(body), sizes) == _outcome(bytes(body), None)

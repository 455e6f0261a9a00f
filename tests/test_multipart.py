"""MultipartReader: the same parts whatever the chunking, and every malformed body refused."""

from __future__ import annotations

import os
import typing as t

import pytest

from secureserver.multipart import FormTooLarge
from secureserver.multipart import MalformedBody
from secureserver.multipart import MultipartReader

if t.TYPE_CHECKING:
    from collections.abc import Iterator

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
MAX_BUFFER = 1024 * 1024


def part(
    name: str, data: bytes, filename: str | None = None, content_type: str | None = None
) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return b"--" + BOUNDARY + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def chunked(data: bytes, size: int | None) -> Iterator[bytes]:
    if size is None:
        yield data
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_all(
    data: bytes, size: int | None = None, **limits: int
) -> tuple[list[tuple[str, str, str | None, bytes]], dict[str, str]]:
    """Read every file part to the end; return the parts and the fields."""
    options = {"max_field_size": 1024, "max_parts": 100, "max_header_size": MAX_BUFFER, **limits}
    reader = MultipartReader(chunked(data, size), BOUNDARY, **options)
    files = [(p.field_name, p.filename, p.content_type, b"".join(p.chunks)) for p in reader.files()]
    return files, reader.fields


# Data that looks like the start of a boundary without being one.
TRICKY = [
    b"\r\n--" + BOUNDARY[:-1],
    b"\r\n--" + BOUNDARY[:-1] + b"\r\n",
    b"x--" + BOUNDARY + b"--",
    b"\r\n-" + BOUNDARY,
    b"\r\n\r\n--\r\n",
    b"\r",
    b"\n",
    b"\r\n",
    b"-",
    b"ends with a CR\r",
]


@pytest.mark.parametrize("size", [1, 7, 1000, None], ids=["1", "7", "1000", "whole"])
def test_chunking_does_not_matter(size: int | None) -> None:
    big = os.urandom(150_000)
    parts = [
        part("note", b"hello \xc3\xa9"),
        part("file", big, "big.bin", "application/x-big"),
        part("file", b"", "empty.txt", "text/plain"),
        *(part("file", data, f"tricky{i}") for i, data in enumerate(TRICKY)),
        part("token", b"abc"),
        part("other", b"ignored by the upload view", "other.txt"),
    ]
    files, fields = read_all(body(*parts), size)
    assert files == [
        ("file", "big.bin", "application/x-big", big),
        ("file", "empty.txt", "text/plain", b""),
        *(("file", f"tricky{i}", None, data) for i, data in enumerate(TRICKY)),
        ("other", "other.txt", None, b"ignored by the upload view"),
    ]
    assert fields == {"note": "hello \u00e9", "token": "abc"}


def test_every_split_point() -> None:
    # A server's reads can end anywhere; a delimiter split across two reads must not leak
    # any of its bytes into the file before it.
    data = body(part("file", b"first", "a"), part("file", b"last", "b"))
    expected = [("file", "a", None, b"first"), ("file", "b", None, b"last")]
    wrong = {}
    for split in range(1, len(data)):
        reader = MultipartReader(
            iter([data[:split], data[split:]]),
            BOUNDARY,
            max_field_size=10,
            max_parts=10,
            max_header_size=MAX_BUFFER,
        )
        files = [
            (p.field_name, p.filename, p.content_type, b"".join(p.chunks)) for p in reader.files()
        ]
        if files != expected:
            wrong[data[:split][-4:] + b"|" + data[split:][:4]] = files
    assert wrong == {}


def test_unread_parts_are_skipped() -> None:
    data = body(part("file", b"a" * 5000, "a"), part("file", b"b" * 5000, "b"))
    reader = MultipartReader(
        chunked(data, 100), BOUNDARY, max_field_size=10, max_parts=10, max_header_size=MAX_BUFFER
    )
    parts = reader.files()
    first = next(parts)
    assert first.filename == "a"
    assert set(next(first.chunks)) == {ord("a")}
    second = next(parts)
    assert second.filename == "b"
    assert b"".join(second.chunks) == b"b" * 5000
    assert list(parts) == []


def test_preamble_and_epilogue_ignored() -> None:
    data = b"a preamble\r\n" + body(part("file", b"x", "x")) + b"an epilogue"
    assert read_all(data)[0] == [("file", "x", None, b"x")]


def test_no_parts() -> None:
    assert read_all(body()) == ([], {})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"junk that is not multipart at all",
        b"--" + BOUNDARY[:-1] + b"\r\n",
        part("file", b"never closed", "a"),
        part("file", b"complete", "a") + b"--" + BOUNDARY + b"\r\n",
        part("file", b"x" * 5000, "a")[:-1000],
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n',
        b"--" + BOUNDARY + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + BOUNDARY + b"--\r\n",
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nx\r\n',
        body(part("note", b"\xff\xfe not utf-8")),
    ],
    ids=[
        "empty",
        "junk",
        "wrong-boundary",
        "no-closing-boundary",
        "ends-after-part",
        "cut-in-data",
        "cut-in-headers",
        "no-disposition",
        "header-not-utf8",
        "field-not-utf8",
    ],
)
@pytest.mark.parametrize("size", [1, None], ids=["bytewise", "whole"])
def test_malformed(data: bytes, size: int | None) -> None:
    with pytest.raises(MalformedBody):
        read_all(data, size)


@pytest.mark.parametrize(
    ("data", "limits"),
    [
        (body(part("note", b"x" * 11)), {"max_field_size": 10}),
        (body(part("note", b"x" * 5000)), {"max_field_size": 4096}),
        (body(*(part("file", b"x", f"{i}") for i in range(4))), {"max_parts": 3}),
        (body(*(part(f"f{i}", b"x") for i in range(4))), {"max_parts": 3}),
        (b"--" + BOUNDARY + b"\r\nX-Long: " + b"h" * 5000, {"max_header_size": 4096}),
    ],
    ids=["field", "field-in-chunks", "files", "fields", "headers"],
)
def test_too_large(data: bytes, limits: dict[str, int]) -> None:
    with pytest.raises(FormTooLarge):
        read_all(data, 1000, **limits)


@pytest.mark.parametrize(("count", "max_parts"), [(3, 3), (1, 1)])
def test_parts_at_the_limit(count: int, max_parts: int) -> None:
    data = body(*(part("file", b"x", f"{i}") for i in range(count)))
    files, _ = read_all(data, max_parts=max_parts)
    assert len(files) == count


def test_field_at_the_limit() -> None:
    assert read_all(body(part("note", b"x" * 10)), max_field_size=10)[1] == {"note": "x" * 10}

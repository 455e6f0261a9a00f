"""Uploading from the page: drag and drop, the file picker, progress, limits, errors, retry."""

from __future__ import annotations

import hashlib
import os
import re
import typing as t

from playwright.sync_api import expect

from .pages import api_files
from .pages import drop_files
from .pages import file_row
from .pages import open_index
from .pages import pick_files
from .pages import put_files
from .pages import screenshot
from .pages import throttle_uploads
from .pages import upload_item

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from ..live_server import LiveServer
    from .pages import PageWatch

KiB = 1024


def mark_page(page: Page) -> None:
    """Leave a mark in the page's window; a reload would wipe it out."""
    page.evaluate("window.notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"


def test_drop_two_files_shows_progress_then_rows(page: Page, server: LiveServer) -> None:
    earlier = {
        "contract-signed.pdf": os.urandom(180 * KiB),
        "budget 2027.ods": os.urandom(40 * KiB),
        "family photos.zip": os.urandom(1200 * KiB),
    }
    put_files(server, earlier)
    open_index(page)
    files = {"holiday video.bin": os.urandom(900 * KiB), "notes <b>.txt": b"first line\n" * 50}
    mark_page(page)
    throttle_uploads(page, 400 * KiB)

    drop_files(page, files, steps=("dragenter", "dragover"))
    expect(page.locator("[data-dropzone]")).to_have_class(re.compile(r"\bdragging\b"))
    screenshot(page, "dragging", full_page=False)
    drop_files(page, files, steps=("drop",))
    expect(page.locator("[data-dropzone]")).not_to_have_class(re.compile(r"\bdragging\b"))

    big = upload_item(page, "holiday video.bin")
    expect(big).to_have_class(re.compile(r"\buploading\b"))
    # Speed and time left appear once half a second of progress has been measured.
    expect(big.locator(".upload-detail")).to_have_text(
        re.compile(r"KiB of 900\.0 KiB \(\d+ %\) · [\d.]+ KiB/s · \d+ s left")
    )
    value, maximum = big.locator("progress").evaluate("p => [p.value, p.max]")
    assert 0 < value < maximum == 900 * KiB
    screenshot(page, "uploading")

    for name in files:
        expect(upload_item(page, name)).to_have_class(re.compile(r"\bdone\b"))
        expect(file_row(page, name)).to_be_visible()
    expect(page.locator("[data-uploads-summary]")).to_have_text("2 uploaded")
    expect(page.locator("[data-count]")).to_have_text("(5)")
    expect(page.locator("[data-announcer]")).to_contain_text("Uploaded")
    assert_not_reloaded(page)

    stored = {f["name"]: f["sha256"] for f in api_files(server)}
    everything = earlier | files
    assert stored == {name: hashlib.sha256(data).hexdigest() for name, data in everything.items()}


def test_pick_two_files(page: Page, server: LiveServer) -> None:
    files = {"report.pdf": os.urandom(300 * KiB), "ça va.txt": "déjà vu\n".encode()}
    mark_page(page)
    pick_files(page, files)
    for name in files:
        expect(upload_item(page, name)).to_have_class(re.compile(r"\bdone\b"))
        expect(file_row(page, name)).to_be_visible()
    assert_not_reloaded(page)
    assert sorted(f["name"] for f in api_files(server)) == sorted(files)
    # The input was emptied, so choosing the same file again uploads it again.
    assert page.eval_on_selector("#file-input", "input => input.files.length") == 0
    screenshot(page, "desktop")


def test_three_at_a_time_cancel_and_retry(page: Page, server: LiveServer) -> None:
    names = [f"part-{i}.bin" for i in range(5)]
    throttle_uploads(page, 300 * KiB)
    pick_files(page, {name: os.urandom(200 * KiB) for name in names})

    expect(page.locator(".upload-item.uploading")).to_have_count(3)
    expect(page.locator(".upload-item.queued")).to_have_count(2)
    page.get_by_role("button", name="Cancel upload of part-4.bin").click()
    page.get_by_role("button", name="Cancel upload of part-0.bin").click()
    for name in ("part-0.bin", "part-4.bin"):
        expect(upload_item(page, name)).to_have_class(re.compile(r"\bcancelled\b"))
        expect(upload_item(page, name).locator(".upload-detail")).to_have_text(
            "Cancelled: nothing was kept."
        )
    # Cancelling the running one let the waiting part-3 start.
    for name in names[1:4]:
        expect(upload_item(page, name)).to_have_class(re.compile(r"\bdone\b"))

    page.get_by_role("button", name="Retry upload of part-0.bin").click()
    expect(upload_item(page, "part-0.bin")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator("[data-uploads-summary]")).to_have_text("4 uploaded · 1 cancelled")
    expect(page.locator("tbody tr")).to_have_count(4)
    assert sorted(f["name"] for f in api_files(server)) == names[:4]

    page.get_by_role("button", name="Clear finished").click()
    expect(page.locator(".upload-item")).to_have_count(1)


def test_too_large_shows_the_limit(
    browse: t.Callable[..., Page],
    live_server_factory: t.Callable[..., LiveServer],
    watch: PageWatch,
) -> None:
    small = live_server_factory(env={"SECURESERVER_MAX_CONTENT_LENGTH": "100000"})
    page = browse(small)
    expect(page.locator(".dropzone-hint")).to_contain_text("up to 97.7 KiB per upload")
    expect(page.locator(".empty")).to_have_text(re.compile("^No files yet"))
    screenshot(page, "empty")

    # Known to be too large from the page's own limit: refused before a byte is sent.
    drop_files(page, {"big.iso": bytes(150_000)})
    item = upload_item(page, "big.iso")
    expect(item).to_have_class(re.compile(r"\bfailed\b"))
    expect(item.locator(".upload-detail")).to_have_text(
        "The file is too large: the limit is 97.7 KiB (100000 bytes)."
    )
    expect(item.get_by_role("button", name=re.compile("^Retry"))).to_be_hidden()

    # A page loaded before the limit was lowered does not know it: the server says 413.
    watch.allow(r"status of 413")
    page.eval_on_selector("[data-max-bytes]", "form => form.removeAttribute('data-max-bytes')")
    drop_files(page, {"bigger.iso": bytes(150_000)})
    item = upload_item(page, "bigger.iso")
    expect(item).to_have_class(re.compile(r"\bfailed\b"))
    expect(item.locator(".upload-detail")).to_have_text(
        "The request is too large: the limit is 97.7 KiB (100000 bytes)."
    )
    expect(page.locator("[data-announcer]")).to_contain_text("Upload of bigger.iso failed")
    screenshot(page, "too-large")
    assert api_files(small) == []


def test_storage_full(page: Page, server: LiveServer, watch: PageWatch) -> None:
    # A server refuses uploads with 507 only when its disk is nearly full, and then it also
    # reports itself unhealthy; the answer is played back here instead (the server's side
    # of it is tested in tests/test_storage.py).
    watch.allow(r"status of 507")
    page.route(
        "**/upload/**",
        lambda route: route.fulfill(status=507, json={"error": "not enough storage space"}),
    )
    pick_files(page, {"archive.tar": b"x" * 1000})
    item = upload_item(page, "archive.tar")
    expect(item.locator(".upload-detail")).to_have_text(
        "The server's storage is full: nothing was kept. Free some space, then retry."
    )
    expect(item.get_by_role("button", name="Retry upload of archive.tar")).to_be_visible()
    assert api_files(server) == []


def test_network_error_then_retry(page: Page, server: LiveServer, watch: PageWatch) -> None:
    watch.allow(r"net::ERR_FAILED")
    page.route("**/upload/**", lambda route: route.abort("failed"))
    pick_files(page, {"flaky.txt": b"hello"})
    item = upload_item(page, "flaky.txt")
    expect(item.locator(".upload-detail")).to_have_text(re.compile("^Network error"))
    page.unroute("**/upload/**")
    item.get_by_role("button", name="Retry upload of flaky.txt").click()
    expect(item).to_have_class(re.compile(r"\bdone\b"))
    expect(file_row(page, "flaky.txt")).to_be_visible()
    assert [f["name"] for f in api_files(server)] == ["flaky.txt"]


def test_dropping_a_folder_is_explained(page: Page) -> None:
    # A drop whose only item is a folder: the page says so instead of failing oddly.
    # Chromium tells a folder by its entry; a test cannot drag a real one, so the entry of
    # the item named "photos" says it is a folder.
    page.evaluate(
        """() => {
          const entry = DataTransferItem.prototype.webkitGetAsEntry;
          DataTransferItem.prototype.webkitGetAsEntry = function () {
            const name = this.getAsFile()?.name;
            return name === "photos" ? { isDirectory: true, name } : entry.call(this);
          };
        }"""
    )
    drop_files(page, {"photos": b""})
    expect(page.locator("[data-upload-message]")).to_have_text(
        "photos is a folder: open it and drop the files inside instead."
    )
    expect(page.locator(".upload-item")).to_have_count(0)

"""The file list: download, delete, copy, filter, sort, pages, and local times."""

from __future__ import annotations

import os
import re
import typing as t
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .pages import api_files
from .pages import file_row
from .pages import listed_names
from .pages import open_index
from .pages import put_files
from .pages import screenshot
from .pages import wait_for_list

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from ..live_server import LiveServer

DASH = "\N{EN DASH}"


def test_download_gives_the_same_bytes(page: Page, server: LiveServer) -> None:
    files = {"data.bin": os.urandom(700_000), "naïve résumé.txt": b"contenu\n"}
    put_files(server, files)
    open_index(page)
    for name, content in files.items():
        with page.expect_download() as download_info:
            file_row(page, name).get_by_role("link", name=f"Download {name}").click()
        download = download_info.value
        assert download.failure() is None
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == content


def test_delete_asks_first(page: Page, server: LiveServer) -> None:
    put_files(server, {"keep.txt": b"keep", "old report.pdf": b"old", "newest.txt": b"new"})
    open_index(page)
    delete = file_row(page, "old report.pdf").get_by_role("button", name="Delete old report.pdf")
    dialog = page.get_by_role("dialog", name="Delete this file?")

    delete.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("“old report.pdf” will be deleted from the server.")
    # Cancel has the focus: Enter in haste deletes nothing.
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "confirm-delete", full_page=False)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(file_row(page, "old report.pdf")).to_be_visible()
    expect(delete).to_be_focused()

    delete.click()
    dialog.get_by_role("button", name="Delete").click()
    expect(file_row(page, "old report.pdf")).to_have_count(0)
    expect(page.locator("[data-count]")).to_have_text("(2)")
    expect(page.locator("[data-announcer]")).to_have_text("Deleted old report.pdf.")
    # Focus moves on to the next row's Delete button, not back to the top of the page.
    expect(file_row(page, "keep.txt").get_by_role("button", name="Delete keep.txt")).to_be_focused()
    assert sorted(f["name"] for f in api_files(server)) == ["keep.txt", "newest.txt"]


def test_copy_link_and_hash(page: Page, server: LiveServer) -> None:
    (record,) = put_files(server, {"share me.txt": b"shared"})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_index(page)
    row = file_row(page, "share me.txt")
    expect(row.locator("td.hash code")).to_have_text(record["sha256"][:12] + "…")

    copy_link = row.get_by_role("button", name="Copy link to share me.txt")
    copy_link.click()
    expect(copy_link).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == server.url(record["download_url"])

    row.get_by_role("button", name="Copy SHA-256 of share me.txt").click()
    assert page.evaluate("navigator.clipboard.readText()") == record["sha256"]
    expect(page.locator("[data-announcer]")).to_have_text("SHA-256 of share me.txt copied.")


def test_filter_sort_and_pages(page: Page, server: LiveServer) -> None:
    sizes = {"report-2024.pdf": 300, "report-2025.pdf": 100, "photo.jpg": 500, "Alpha.txt": 50}
    put_files(server, {name: b"x" * size for name, size in sizes.items()})
    put_files(server, {"zeta.bin": b"z" * 1000})
    open_index(page, "/?limit=2")

    def expect_names(names: list[str]) -> None:
        expect(page.locator("tbody td.name")).to_have_text(names)

    # Newest first, two a page.
    expect_names(["zeta.bin", "Alpha.txt"])
    expect(page.locator(".pages .range")).to_have_text(f"1{DASH}2 of 5")
    page.get_by_role("link", name="Next page").click()
    expect_names(["photo.jpg", "report-2025.pdf"])
    expect(page.locator(".pages .range")).to_have_text(f"3{DASH}4 of 5")
    assert "offset=2" in page.url
    expect(page.locator("#files-title")).to_be_focused()
    page.go_back()
    expect_names(["zeta.bin", "Alpha.txt"])

    # Column headers sort, and say how.
    name_header = page.get_by_role("columnheader", name="Name")
    name_header.get_by_role("link").click()
    expect_names(["Alpha.txt", "photo.jpg"])
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    name_header.get_by_role("link").click()
    expect_names(["zeta.bin", "report-2025.pdf"])
    expect(name_header).to_have_attribute("aria-sort", "descending")
    page.get_by_label("Sort by").select_option("size")
    expect_names(["zeta.bin", "photo.jpg"])
    expect(page.get_by_label("Order")).to_have_value("desc")
    page.get_by_label("Order").select_option("asc")
    expect_names(["Alpha.txt", "report-2025.pdf"])

    # The filter follows typing.
    page.get_by_label("Filter by name").fill("REPORT")
    expect_names(["report-2025.pdf", "report-2024.pdf"])
    expect(page.locator("[data-count]")).to_have_text("(2)")
    assert "q=REPORT" in page.url
    page.get_by_label("Filter by name").fill("nothing")
    expect(page.locator(".empty")).to_have_text("No file name contains “nothing”. Clear the filter")
    page.get_by_role("button", name="Clear the filter").click()
    expect(page.get_by_label("Filter by name")).to_have_value("")
    expect(page.locator(".pages .range")).to_have_text(f"1{DASH}2 of 5")
    screenshot(page, "sorted-and-paged")

    # The address holds the state: a reload shows the same list.
    page.reload()
    wait_for_list(page)
    expect_names(["Alpha.txt", "report-2025.pdf"])
    expect(page.get_by_label("Sort by")).to_have_value("size")


def test_times_are_shown_in_local_time(browse: t.Callable[..., Page], server: LiveServer) -> None:
    (record,) = put_files(server, {"tokyo.txt": b"x"})
    page = browse(server, timezone_id="Asia/Tokyo", locale="en-GB")
    uploaded = datetime.fromisoformat(record["uploaded_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    time = file_row(page, "tokyo.txt").locator("time")
    expect(time).to_have_attribute("datetime", record["uploaded_at"])
    expect(time).to_have_text(f"{uploaded.day} {uploaded:%b %Y, %H:%M}")
    expect(page.get_by_role("columnheader", name="Uploaded")).to_have_text(re.compile("^Uploaded"))
    assert listed_names(page) == ["tokyo.txt"]

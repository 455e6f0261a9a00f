"""Without JavaScript the page is plain forms and links, and all of it still works."""

from __future__ import annotations

import typing as t

from playwright.sync_api import expect

from .pages import api_files
from .pages import file_row
from .pages import put_files
from .pages import screenshot

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from ..live_server import LiveServer


def test_form_upload_delete_sort_and_filter(
    browse: t.Callable[..., Page], server: LiveServer
) -> None:
    page = browse(server, java_script_enabled=False)
    # The scripted drop zone's title is not shown; the plain file input and button are.
    expect(page.locator(".dropzone-title")).to_be_hidden()
    expect(page.locator("#file-input")).to_be_visible()
    upload = page.get_by_role("button", name="Upload", exact=True)
    expect(upload).to_be_visible()

    page.set_input_files(
        "#file-input",
        files=[
            {"name": "one.txt", "mimeType": "text/plain", "buffer": b"first"},
            {"name": "two <i>.txt", "mimeType": "text/plain", "buffer": b"second"},
        ],
    )
    with page.expect_navigation() as navigation:
        upload.click()
    landed = navigation.value
    assert landed is not None and landed.status == 200
    posted = landed.request.redirected_from
    assert posted is not None and posted.method == "POST"
    redirect = posted.response()
    assert redirect is not None and redirect.status == 303
    expect(page.locator(".flash")).to_have_text("Uploaded one.txt, two <i>.txt.")
    expect(file_row(page, "one.txt")).to_be_visible()
    expect(file_row(page, "two <i>.txt")).to_be_visible()
    screenshot(page, "no-javascript")

    # Sorting is a link, filtering a GET form.
    page.get_by_role("link", name="Name").click()
    expect(page.locator("tbody td.name")).to_have_text(["one.txt", "two <i>.txt"])
    page.get_by_label("Filter by name").fill("two")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody td.name")).to_have_text(["two <i>.txt"])

    page.get_by_role("button", name="Delete two <i>.txt").click()
    expect(page.locator(".flash")).to_have_text("Deleted two <i>.txt.")
    assert [f["name"] for f in api_files(server)] == ["one.txt"]


def test_pages_without_javascript(browse: t.Callable[..., Page], server: LiveServer) -> None:
    put_files(server, {f"{n}.txt": b"x" for n in range(3)})
    page = browse(server, "/?limit=2", java_script_enabled=False)
    expect(page.locator("tbody td.name")).to_have_text(["2.txt", "1.txt"])
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("tbody td.name")).to_have_text(["0.txt"])
    page.get_by_role("link", name="Previous page").click()
    expect(page.locator("tbody td.name")).to_have_text(["2.txt", "1.txt"])

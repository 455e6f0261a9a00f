"""Keyboard use, visible focus, an axe-core check, the phone layout, dark mode, and the CSP."""

from __future__ import annotations

import re
import typing as t

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .pages import PHONE
from .pages import drop_files
from .pages import file_row
from .pages import open_index
from .pages import overflowing
from .pages import pick_files
from .pages import put_files
from .pages import screenshot
from .pages import upload_item

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from ..live_server import LiveServer
    from .pages import PageWatch

LONG_NAME = "quarterly-report-" + "x" * 90 + ".pdf"


def tab_to(page: Page, selector: str, limit: int = 40) -> int:
    """Press Tab until the element matching ``selector`` has focus; return the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab")


def focus_ring(page: Page, selector: str) -> str:
    """The outline drawn around an element: "solid 3px" when focus is visible."""
    outline = page.eval_on_selector(
        selector, "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]"
    )
    return " ".join(outline)


@pytest.mark.parametrize("key", ["Enter", " "])
def test_drop_zone_opens_the_picker_from_the_keyboard(page: Page, key: str) -> None:
    # Playwright turns on its interception of file choosers in the background when the
    # first listener is added; adding one early makes sure it is on before the key press.
    page.on("filechooser", lambda chooser: None)
    # Skip link, site name, then the drop zone: the first control of the page.
    assert tab_to(page, "#file-input") == 3
    assert focus_ring(page, "[data-dropzone]") == "solid 3px"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press(key)
    chooser.value.set_files(
        files=[{"name": "typed.txt", "mimeType": "text/plain", "buffer": b"keyboard"}]
    )
    expect(upload_item(page, "typed.txt")).to_have_class(re.compile(r"\bdone\b"))
    expect(file_row(page, "typed.txt")).to_be_visible()
    if key == "Enter":
        screenshot(page, "keyboard-focus", full_page=False)


def test_row_buttons_by_keyboard(page: Page, server: LiveServer) -> None:
    put_files(server, {"only.txt": b"x"})
    open_index(page)
    tab_to(page, "button[aria-label='Delete only.txt']")
    assert focus_ring(page, ":focus") == "solid 3px"
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Delete only.txt")).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(
    browse: t.Callable[..., Page], server: LiveServer, watch: PageWatch, scheme: str
) -> None:
    put_files(server, {"report.pdf": b"%PDF" * 100, "notes.txt": b"notes"})
    page = browse(server, color_scheme=scheme)
    pick_files(page, {"done.txt": b"fine"})
    # A failed upload too, to check its message and Retry button.
    watch.allow(r"net::ERR_FAILED")
    page.route("**/upload/failed.bin", lambda route: route.abort("failed"))
    drop_files(page, {"failed.bin": bytes(2000)})
    expect(upload_item(page, "failed.bin")).to_have_class(re.compile(r"\bfailed\b"))
    expect(upload_item(page, "done.txt")).to_have_class(re.compile(r"\bdone\b"))
    expect(file_row(page, "done.txt")).to_be_visible()
    screenshot(page, f"desktop-{scheme}")

    axe = Axe()
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()

    page.get_by_role("button", name="Delete report.pdf").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_layout_fits(browse: t.Callable[..., Page], server: LiveServer, scheme: str) -> None:
    put_files(server, {LONG_NAME: b"x" * 5000, "photo.jpg": b"y" * 300_000})
    page = browse(
        server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        color_scheme=scheme,
    )
    pick_files(page, {"another-very-long-file-name-without-any-spaces-at-all.tar.gz": b"z"})
    expect(page.locator(".upload-item.done")).to_have_count(1)
    expect(page.locator("tbody tr")).to_have_count(3)
    assert overflowing(page) == []
    # Every row's buttons can be reached and pressed: at least 40 px high on a touch screen.
    heights = page.locator("td.actions .button, td.actions button").evaluate_all(
        "els => els.map((el) => el.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 40
    screenshot(page, f"phone-{scheme}")


def test_no_inline_code_and_csp_violations_are_caught(page: Page, watch: PageWatch) -> None:
    inline = page.evaluate(
        """() => [...document.querySelectorAll("*")].filter((el) =>
             el.hasAttribute("style") || (el.tagName === "SCRIPT" && !el.src) ||
             [...el.attributes].some((a) => a.name.startsWith("on"))
           ).map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert inline == []
    assert watch.unexpected() == []
    # The watch does see a violation: an inline script added now is refused and reported.
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.head.append(script);
        }"""
    )
    for _ in range(50):
        if any("securitypolicyviolation: script-src" in p for p in watch.problems):
            break
        page.wait_for_timeout(20)
    assert any("securitypolicyviolation: script-src" in p for p in watch.problems), watch.problems
    assert page.evaluate("window.injected") is None
    watch.allow("script-src")

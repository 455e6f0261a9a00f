"""What the browser tests do to the page, named for what a user does: drop, pick, wait, look."""

from __future__ import annotations

import base64
import re
import typing as t
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import quote

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import ConsoleMessage
    from playwright.sync_api import Locator
    from playwright.sync_api import Page

    from ..live_server import LiveServer

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Every wait of these tests is bounded by this, in milliseconds.
TIMEOUT_MS = 15_000

# Reports CSP violations as console errors, which PageWatch collects.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

# Builds a DataTransfer holding the files, in the page, and drops it as a drag would.
DRAG_AND_DROP = """
async ([files, steps]) => {
  const transfer = new DataTransfer();
  for (const { name, type, data } of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  const zone = document.querySelector("[data-dropzone]");
  for (const type of steps) {
    const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
    zone.dispatchEvent(new DragEvent(type, init));
  }
}
"""


@dataclass
class PageWatch:
    """What went wrong in the pages of a test: console errors, exceptions, CSP violations."""

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def page(self, context: BrowserContext) -> Page:
        """Open a page in ``context`` and watch it."""
        page = context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        return page

    def allow(self, pattern: str) -> None:
        """Accept console errors matching ``pattern`` (a regular expression)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _on_page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught exception: {error}")


def new_context(browser: Browser, server: LiveServer, **options: t.Any) -> BrowserContext:
    """A context for ``server``: its certificate accepted, its origin the base URL."""
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(
        base_url=server.base_url, ignore_https_errors=True, accept_downloads=True, **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_LISTENER)
    return context


def open_index(page: Page, path: str = "/") -> None:
    """Open the page and wait until its script has drawn the list from the API."""
    page.goto(path)
    wait_for_list(page)


def wait_for_list(page: Page) -> None:
    """Wait until the list shows the API's latest answer."""
    page.wait_for_selector("[data-results][data-state=ready]:not([aria-busy])", state="attached")


def drop_files(
    page: Page,
    files: dict[str, bytes],
    steps: t.Sequence[str] = ("dragenter", "dragover", "drop"),
) -> None:
    """Drag ``files`` (name to content) over the drop zone and drop them."""
    payload = [
        {"name": name, "type": "application/octet-stream", "data": base64.b64encode(data).decode()}
        for name, data in files.items()
    ]
    page.evaluate(DRAG_AND_DROP, [payload, list(steps)])


def pick_files(page: Page, files: dict[str, bytes]) -> None:
    """Choose ``files`` in the file picker."""
    page.set_input_files(
        "#file-input",
        files=[
            {"name": name, "mimeType": "application/octet-stream", "buffer": data}
            for name, data in files.items()
        ],
    )


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    """Slow the page's uploads down (Chromium's network emulation), to watch them move."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def upload_item(page: Page, name: str) -> Locator:
    """The upload list's row for ``name``."""
    return page.locator(".upload-item").filter(
        has=page.locator(".upload-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def file_row(page: Page, name: str) -> Locator:
    """The file list's row for ``name``."""
    return page.locator("tbody tr").filter(
        has=page.locator("td.name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def listed_names(page: Page) -> list[str]:
    return page.locator("tbody td.name").all_inner_texts()


def put_files(server: LiveServer, files: dict[str, bytes]) -> list[dict[str, t.Any]]:
    """Store files through the API, as curl would (no browser involved)."""
    session = server.session()
    records = []
    for name, data in files.items():
        response = session.put(server.url(f"/upload/{quote(name, safe='')}"), data=data, timeout=30)
        assert response.status_code == 201, response.text
        records.append(response.json()["files"][0])
    return records


def api_files(server: LiveServer) -> list[dict[str, t.Any]]:
    response = server.session().get(server.url("/api/files?limit=1000"), timeout=10)
    assert response.status_code == 200
    return t.cast(list[dict[str, t.Any]], response.json()["files"])


def delete_all_files(server: LiveServer) -> None:
    """Empty ``server`` through the API."""
    session = server.session()
    while files := api_files(server):
        for record in files:
            response = session.delete(server.url(f"/api/files/{record['id']}"), timeout=10)
            assert response.status_code in (204, 404), response.text


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artifact: ``tests/artifacts/browser/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path


def overflowing(page: Page) -> list[str]:
    """Describe the elements that stick out past the right edge of the viewport."""
    return t.cast(
        list[str],
        page.evaluate(
            """() => {
              const root = document.documentElement;
              const width = root.clientWidth;
              const out = [];
              if (root.scrollWidth > width) {
                out.push(`page scrolls sideways: ${root.scrollWidth} > ${width}`);
              }
              for (const el of document.querySelectorAll("body *")) {
                const box = el.getBoundingClientRect();
                if (box.width && box.right > width + 0.5 && !el.closest(".visually-hidden")) {
                  out.push(`${el.tagName.toLowerCase()}.${el.className}: right edge ${box.right}`);
                }
              }
              return out;
            }"""
        ),
    )

"""Fixtures for tests in a real browser: Debian's Chromium driven by Playwright.

The tests share one gunicorn over TLS of their own, started as ``live_server`` is, and
emptied through the API before each test, so that lists and screenshots depend on no other
test (the suite's ``live_server`` is left alone: other tests keep files on it). Tests that
need other settings start a server with ``live_server_factory``. Each test opens fresh
browser contexts. A context accepts the test server's certificate through Playwright's
``ignore_https_errors``, which applies to that context only; the pages visit nothing but
the servers on 127.0.0.1.

Every page a test opens is watched: the test fails if a page logged a console error, threw
an uncaught exception or broke its Content-Security-Policy (a ``securitypolicyviolation``
listener is installed before any of the page's own scripts run). A test that expects an
error, such as the browser's own log line for a 413 answer, declares it with
``watch.allow(pattern)``.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from ..live_server import prepare_instance
from ..live_server import start_server
from .pages import PageWatch
from .pages import delete_all_files
from .pages import new_context
from .pages import open_index

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page
    from playwright.sync_api import Playwright

    from ..live_server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium against a live server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, on a fresh profile that Playwright throws away."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "`make test` installs it; or run `apt-get install chromium` as root."
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("browser")
    instance, certs = prepare_instance(workdir)
    server = start_server(instance, certs, workdir / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def server(browser_server: LiveServer) -> LiveServer:
    """The browser tests' server, holding no file."""
    delete_all_files(browser_server)
    return browser_server


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def browse(
    browser: Browser, watch: PageWatch, live_server_factory: t.Callable[..., LiveServer]
) -> Iterator[t.Callable[..., Page]]:
    """Open a server's page in a new context: ``browse(server, "/", color_scheme="dark")``.

    Context options pass through to Playwright. With ``java_script_enabled=False`` the
    page is only loaded; otherwise the call returns once the script has drawn the list.
    The test fails afterwards if any page reported a problem. The pages are closed before
    the test's own servers stop (this fixture depends on ``live_server_factory`` for that
    order), so no open connection holds up gunicorn's graceful shutdown.
    """
    contexts: list[BrowserContext] = []

    def open_page(server: LiveServer, path: str = "/", **options: t.Any) -> Page:
        context = new_context(browser, server, **options)
        contexts.append(context)
        page = watch.page(context)
        if options.get("java_script_enabled", True):
            open_index(page, path)
        else:
            page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert watch.unexpected() == [], "a page reported problems"


@pytest.fixture
def page(browse: t.Callable[..., Page], server: LiveServer) -> Page:
    """The fresh server's page, on a desktop-sized window, its list drawn."""
    return browse(server)

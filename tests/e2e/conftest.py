"""Browser fixtures: Debian's Chromium driven by Playwright against the live server.

Playwright cannot download a browser here, so the tests drive the system's
Chromium. Every context records the requests its pages make, their console
errors and uncaught exceptions, so a test can assert that no page reached another
host (the statement promises data stays on the operator's server) and that the
Content-Security-Policy blocked nothing the pages need.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Request, Response

CHROMIUM = os.environ.get("SAFEHOLD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the test machine runs as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No call home of the browser's own: every request seen is a page's.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for the module's tests (skipped, or failed in CI, if missing)."""
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        skip_or_fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("browser tests need the playwright package (pip install -e '.[test]')")

    # Playwright's sync API keeps an event loop running in this thread, which
    # Django's async-safety check takes for async code: the test's own ORM calls
    # (and the database teardown) would be refused. Allowed for this module only,
    # and only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Recorder:
    """What the pages of the test's browser contexts did on the network and console."""

    requests: list[str] = field(default_factory=list)
    console_problems: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.console_problems.append(message.text)

    def on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))

    def on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that went anywhere but ``origin`` (data: URIs never leave the page)."""
        expected = urlsplit(origin)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme == "data":
                continue
            if (parts.scheme, parts.netloc) != (expected.scheme, expected.netloc):
                foreign.append(url)
        return foreign

    def csp_violations(self) -> list[str]:
        return [text for text in self.console_problems if "Content Security Policy" in text]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def new_context(browser: Browser, recorder: Recorder) -> Iterator[Callable[[], BrowserContext]]:
    """Make a fresh browser context (its own cookies: another device) that the recorder watches."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", recorder.on_request)
        context.on("response", recorder.on_response)
        context.on("console", recorder.on_console)
        context.on("weberror", lambda web_error: recorder.on_page_error(web_error.error))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()

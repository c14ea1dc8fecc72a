"""The API docs page in Chromium: Swagger UI runs under the CSP and talks to this server only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.conftest import IN_CI

try:
    from playwright.sync_api import expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("browser tests need playwright (pip install -e '.[test]')", allow_module_level=True)

from tests.e2e.conftest import Recorder

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_page_lists_the_operations_and_tries_one(
    live_server, new_context: Callable[[], BrowserContext], recorder: Recorder
) -> None:
    from safehold.api import services

    issued = services.create_api_key(name="docs", scopes=["keys:read"], actor=None)
    origin = live_server.url
    page = new_context().new_page()
    response = page.goto(f"{origin}/api/v1/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in (response.header_value("content-security-policy") or "")

    for path in ("/api/v1/health", "/api/v1/me", "/api/v1/problems/{code}"):
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]')).to_be_visible()

    # Authorise with the key, then try GET /api/v1/me from the page.
    page.locator("button.authorize").first.click()
    bearer = page.locator(".auth-container", has_text="ApiKeyAuth")
    bearer.get_by_label("Value").fill(issued.token)
    bearer.locator("button.authorize").click()
    bearer.get_by_role("button", name="Close").click()
    operation = page.locator("#operations-API-safehold_api_api_me")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text('"name": "docs"')

    assert recorder.server_errors == []
    assert recorder.page_errors == []
    assert recorder.csp_violations() == []
    assert recorder.console_problems == []
    assert recorder.requests
    assert recorder.foreign_requests(origin) == []

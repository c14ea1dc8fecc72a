"""The consent banner in Debian's Chromium (Playwright), on Safehold's pages and
embedded in a page of another origin.

On Safehold's pages: a first visit sets no optional cookie and runs no blocked script;
Reject all keeps the analytics script and its cookie away; Accept all runs it (and
Google Consent Mode hears of it); withdrawing in Cookie settings deletes its cookie; a
GPC header keeps marketing off; everything works from the keyboard alone.

Embedded: a page served by Python's http.server on another port (another origin and
another site: 127.0.0.1 against the live server's localhost) loads consent.js with a
site key; the choice is recorded in Safehold through CORS without credentials, and the
only cookies are the embedding site's own.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import IN_CI

try:
    from playwright.sync_api import BrowserContext, Page, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("browser tests need playwright (pip install -e '.[test]')", allow_module_level=True)

from tests.e2e.conftest import Recorder

if TYPE_CHECKING:
    from safehold.consent.models import ConsentRecord

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_categories"),
]

NECESSARY = {"sessionid", "csrftoken", "messages", "sh_vid", "sh_consent"}
ANALYTICS_COOKIE = "_sh_example_analytics"


@pytest.fixture
def analytics_script(default_categories) -> None:  # type: ignore[no-untyped-def]
    """The analytics category loads the example script, which sets its own cookie."""
    from safehold.consent import services
    from safehold.consent.models import Category

    Category.objects.filter(slug="analytics").update(
        cookies=ANALYTICS_COOKIE, scripts="/static/consent/example-analytics.js"
    )
    services.clear_config()


def cookie_names(context: BrowserContext) -> set[str]:
    return {c["name"] for c in context.cookies()}


def ran_analytics(page: Page) -> bool:
    return page.evaluate("document.documentElement.dataset.exampleAnalytics === 'ran'")


def wait_for_records(count: int, timeout: float = 10) -> list[ConsentRecord]:
    from django.db import OperationalError

    from safehold.consent.models import ConsentRecord

    deadline = time.monotonic() + timeout
    while True:
        try:
            records = list(ConsentRecord.objects.order_by("id"))
        except OperationalError:
            # The test database on SQLite is in memory with a shared cache, where a read
            # while the live server's thread writes fails at once ("table is locked")
            # instead of waiting; a file database (production) waits. Look again.
            records = []
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def clean(recorder: Recorder, origin: str) -> None:
    assert recorder.server_errors == []
    assert recorder.page_errors == []
    assert recorder.csp_violations() == []
    assert recorder.foreign_requests(origin) == []


def test_first_visit_then_reject_then_accept_then_withdraw(
    live_server, analytics_script, new_context: Callable[[], BrowserContext], recorder: Recorder
) -> None:
    origin = live_server.url
    context = new_context()
    page = context.new_page()
    page.goto(f"{origin}/")
    banner = page.get_by_role("region", name="Cookies on this site")
    expect(banner).to_be_visible()
    for name in ("Accept all", "Reject all", "Choose"):
        expect(
            banner.get_by_role("button" if name != "Choose" else "link", name=name)
        ).to_be_visible()
    assert not ran_analytics(page)
    assert page.locator('script[type="text/plain"][data-category="analytics"]').count() == 1
    assert cookie_names(context) <= NECESSARY
    assert page.evaluate("SafeholdConsent.allows('analytics')") is False
    # Google Consent Mode v2: everything optional denied by default.
    default = page.evaluate("Array.from(dataLayer[0])")
    assert default[0:2] == ["consent", "default"]
    assert default[2]["analytics_storage"] == "denied"
    assert default[2]["ad_user_data"] == "denied"

    banner.get_by_role("button", name="Reject all").click()
    expect(banner).to_have_count(0)
    records = wait_for_records(1)
    assert records[-1].allowed == ["necessary"]
    page.reload()
    expect(page.get_by_role("region", name="Cookies on this site")).to_have_count(0)
    assert not ran_analytics(page)
    assert ANALYTICS_COOKIE not in cookie_names(context)

    # Change of mind on the settings page (footer link): accept all.
    page.get_by_role("link", name="Cookie settings").click()
    page.get_by_role("button", name="Accept all").click()
    expect(page.get_by_text("Your cookie choice has been saved.")).to_be_visible()
    page.goto(f"{origin}/")
    expect(page.locator("html[data-example-analytics=ran]")).to_have_count(1)
    assert ANALYTICS_COOKIE in cookie_names(context)
    assert page.evaluate("SafeholdConsent.allows('analytics')") is True
    updates = page.evaluate(
        "dataLayer.filter(e => e[0] === 'consent' && e[1] === 'update').map(e => e[2])"
    )
    assert updates[-1]["analytics_storage"] == "granted"

    # Withdraw analytics: its cookie goes, its script stops from the next page on.
    page.get_by_role("link", name="Cookie settings").click()
    page.get_by_label("Analytics").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your cookie choice has been saved.")).to_be_visible()
    assert ANALYTICS_COOKIE not in cookie_names(context)
    page.goto(f"{origin}/")
    assert not ran_analytics(page)
    assert ANALYTICS_COOKIE not in cookie_names(context)
    assert [r.method for r in wait_for_records(3)] == ["banner", "settings", "settings"]
    clean(recorder, origin)


def test_gpc_header_keeps_marketing_off(live_server, browser, recorder: Recorder) -> None:  # type: ignore[no-untyped-def]
    origin = live_server.url
    # What a browser with GPC sends: the header on every request, and the JS property.
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"
    )
    context.on("request", recorder.on_request)
    context.on("console", recorder.on_console)
    try:
        page = context.new_page()
        page.goto(f"{origin}/")
        banner = page.get_by_role("region", name="Cookies on this site")
        expect(banner.get_by_text("Global Privacy Control")).to_be_visible()
        banner.get_by_role("button", name="Accept all").click()
        expect(banner).to_have_count(0)
        record = wait_for_records(1)[-1]
        assert record.gpc is True
        assert record.choices["marketing"] is False
        assert record.choices["analytics"] is True
        page.reload()
        assert page.evaluate("SafeholdConsent.allows('marketing')") is False
        assert page.evaluate("SafeholdConsent.allows('analytics')") is True
        updates = page.evaluate(
            "dataLayer.filter(e => e[0] === 'consent' && e[1] === 'update').map(e => e[2])"
        )
        assert updates[-1]["ad_storage"] == "denied"
        assert recorder.foreign_requests(origin) == []
        assert recorder.csp_violations() == []
    finally:
        context.close()


def test_keyboard_only(
    live_server, analytics_script, new_context: Callable[[], BrowserContext], recorder: Recorder
) -> None:
    origin = live_server.url
    context = new_context()
    page = context.new_page()
    page.goto(f"{origin}/")

    def focused() -> str:
        return str(page.evaluate("document.activeElement.textContent.trim()"))

    # The banner comes first in the tab order, right after "Skip to content".
    page.keyboard.press("Tab")
    assert focused() == "Skip to content"
    page.keyboard.press("Tab")
    assert focused() == "Accept all"
    page.keyboard.press("Tab")
    assert focused() == "Reject all"
    page.keyboard.press("Tab")
    assert focused() == "Choose"
    page.keyboard.press("Enter")  # the settings page
    expect(page).to_have_url(f"{origin}/cookies/?next=/")
    expect(page.get_by_role("region", name="Cookies on this site")).to_have_count(0)
    page.get_by_label("Analytics").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("Analytics")).to_be_checked()
    for _ in range(6):  # to "Save my choices"
        page.keyboard.press("Tab")
        if focused() == "Save my choices":
            break
    assert focused() == "Save my choices"
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{origin}/")
    expect(page.locator("html[data-example-analytics=ran]")).to_have_count(1)
    record = wait_for_records(1)[-1]
    assert record.allowed == ["analytics", "necessary"]
    assert record.method == "settings"
    clean(recorder, origin)


# --- The embed on another origin ---------------------------------------------------------------


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static web server on 127.0.0.1 (another origin and site than localhost)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


SHOP_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body>
<h1>A shop on another site</h1>
<button type="button" data-safehold-consent-open>Cookie settings</button>
<script type="text/plain" data-category="analytics">
  document.documentElement.dataset.shopAnalytics = "ran";
</script>
<script type="text/plain" data-category="marketing">
  document.documentElement.dataset.shopMarketing = "ran";
</script>
<script src="{safehold}/static/consent/consent.js" data-site="{key}"></script>
<script>
  window.changes = [];
  SafeholdConsent.onChange(function (allowed) {{ window.changes.push(allowed.sort().join(",")); }});
</script>
</body></html>
"""


def test_embed_on_another_origin_records_the_choice(
    live_server, other_site, browser, recorder: Recorder
) -> None:  # type: ignore[no-untyped-def]
    from safehold.api import origins, services
    from safehold.audit.services import Actor

    shop, directory = other_site
    issued = services.create_api_key(
        name="shop", scopes=["consent:read", "consent:write"], kind="site", actor=None
    )
    origins.set_allowed_origins(issued.api_key.pk, [shop], actor=Actor.system())
    origins.forget()
    (directory / "index.html").write_text(
        SHOP_PAGE.format(safehold=live_server.url, key=issued.token), encoding="utf-8"
    )
    context = browser.new_context()
    context.on("request", recorder.on_request)
    context.on("console", recorder.on_console)
    context.on("weberror", lambda e: recorder.on_page_error(e.error))
    try:
        page = context.new_page()
        page.goto(f"{shop}/index.html")
        banner = page.get_by_role("region", name="Cookies on this site")
        expect(banner).to_be_visible()
        assert page.evaluate("document.documentElement.dataset.shopAnalytics") is None
        # Choose: analytics only.
        banner.get_by_role("button", name="Choose").click()
        banner.get_by_label("Analytics").check()
        banner.get_by_role("button", name="Save my choices").click()
        expect(banner).to_have_count(0)
        expect(page.locator("html[data-shop-analytics=ran]")).to_have_count(1)
        assert page.evaluate("document.documentElement.dataset.shopMarketing") is None
        assert page.evaluate("SafeholdConsent.allows('analytics')") is True
        # Once when the state is known (nothing chosen yet), once on the choice.
        assert page.evaluate("window.changes") == ["necessary", "analytics,necessary"]

        record = wait_for_records(1)[-1]
        assert record.site_id == issued.api_key.pk
        assert record.method == "banner"
        assert record.allowed == ["analytics", "necessary"]
        # The visitor id lives in the shop's own cookie, and Safehold set none.
        shop_cookies = {c["name"]: c for c in context.cookies(shop)}
        assert shop_cookies["sh_vid"]["value"] == record.visitor_id
        assert shop_cookies["sh_consent"]["sameSite"] == "Lax"
        assert context.cookies(live_server.url) == []

        # A second visit: no banner, the choice applies at once.
        page.reload()
        expect(page.locator("html[data-shop-analytics=ran]")).to_have_count(1)
        expect(page.get_by_role("region", name="Cookies on this site")).to_have_count(0)
        # Reopen and reject all: recorded as a new choice.
        page.get_by_role("button", name="Cookie settings").click()
        page.get_by_role("region", name="Cookies on this site").get_by_role(
            "button", name="Reject all"
        ).click()
        records = wait_for_records(2)
        assert [(r.method, r.allowed) for r in records] == [
            ("banner", ["analytics", "necessary"]),
            ("banner", ["necessary"]),
        ]
        assert records[-1].visitor_id == record.visitor_id

        assert recorder.page_errors == []
        assert [t for t in recorder.console_problems if "CORS" in t] == []
        hosts = {url.split("/")[2] for url in recorder.requests}
        assert hosts <= {shop.split("/")[2], live_server.url.split("/")[2]}
    finally:
        context.close()


def test_embed_from_an_origin_the_key_does_not_allow(live_server, other_site, browser) -> None:  # type: ignore[no-untyped-def]
    from safehold.api import services

    shop, directory = other_site
    issued = services.create_api_key(
        name="shop", scopes=["consent:read", "consent:write"], kind="site", actor=None
    )
    (directory / "index.html").write_text(
        SHOP_PAGE.format(safehold=live_server.url, key=issued.token), encoding="utf-8"
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{shop}/index.html")
        page.wait_for_timeout(1500)
        expect(page.get_by_role("region", name="Cookies on this site")).to_have_count(0)
        assert page.evaluate("SafeholdConsent.allows('analytics')") is False
        assert page.evaluate("document.documentElement.dataset.shopAnalytics") is None
        assert wait_for_records(0) == []
    finally:
        context.close()

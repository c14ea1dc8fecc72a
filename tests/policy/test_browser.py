"""In Chromium: a material version takes effect while a person is away; on their next
page they are asked to acknowledge it, read the changes, acknowledge, and go on; the
statement reads in Chinese. No page reaches another host; the CSP blocks nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.conftest import IN_CI, TEST_PASSWORD
from tests.e2e.conftest import Recorder
from tests.policy.conftest import v1_text

try:
    from playwright.sync_api import BrowserContext, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("browser tests need playwright", allow_module_level=True)

#: Added to the Chinese text of version 2 ("for a year at most").
LIMIT_ZH = "（最多一年）"  # noqa: RUF001  # Chinese punctuation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_material_change_is_acknowledged_once_in_the_browser(
    live_server,  # type: ignore[no-untyped-def]
    new_context: Callable[[], BrowserContext],
    recorder: Recorder,
    make_user,
    publish,
    clock,
) -> None:
    alice = make_user("alice")
    alice.date_joined = clock.now() - timedelta(days=30)
    alice.save(update_fields=["date_joined"])
    english = v1_text().replace(
        "We keep only what we need", "We keep only what we need, for no longer than a year,"
    )
    chinese = v1_text("zh-hans").replace("我们只保存为您", f"我们只保存{LIMIT_ZH}为您")
    publish(
        {"en": english, "zh-hans": chinese},
        material=True,
        effective_at=clock.now() + timedelta(hours=1),
        summaries={"en": "We now keep data for a year at most.", "zh-hans": "数据最多保存一年。"},
    )

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/account/")  # not in force yet: not asked

    clock.forward(timedelta(hours=2))
    page.goto(f"{live_server.url}/account/sessions/")
    expect(page).to_have_url(
        f"{live_server.url}/privacy/acknowledge/?next=%2Faccount%2Fsessions%2F"
    )
    expect(page.get_by_text("We now keep data for a year at most.")).to_be_visible()
    page.get_by_role("link", name="See every change since version 1").click()
    expect(page).to_have_url(f"{live_server.url}/privacy/diff/1...2/")
    expect(page.locator("ins", has_text="for no longer than a year,")).to_be_visible()
    page.go_back()
    page.get_by_role("button", name="I have read version 2: continue").click()
    expect(page).to_have_url(f"{live_server.url}/account/sessions/")
    expect(page.get_by_text("you acknowledged version 2")).to_be_visible()

    page.goto(f"{live_server.url}/account/")  # once: not asked again
    expect(page).to_have_url(f"{live_server.url}/account/")
    expect(page.get_by_text("Version 2, on")).to_be_visible()

    page.select_option("#language-select", "zh-hans")
    page.locator("form.lang button[type=submit]").click()
    page.goto(f"{live_server.url}/privacy/")
    expect(page.locator("article.statement h1")).to_have_text("隐私声明")
    expect(page.get_by_text(f"我们只保存{LIMIT_ZH}")).to_be_visible()

    assert recorder.foreign_requests(live_server.url) == []
    assert recorder.csp_violations() == []
    assert recorder.server_errors == []
    assert recorder.page_errors == []

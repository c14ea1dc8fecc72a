"""In Chromium: a person gives and withdraws a consent, and sees the disclosure it allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from safehold.audit.services import Actor
from safehold.sharing import services
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # the browser fixtures

pytest.importorskip("playwright")
from playwright.sync_api import expect  # after the import check

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

    from tests.e2e.conftest import Recorder

pytestmark = pytest.mark.browser


def _share(person) -> object:  # type: ignore[no-untyped-def]
    return services.request_share(
        recipient="fastpost",
        person=person,
        categories=["name", "mailing_address"],
        purpose="delivery",
        basis="consent",
        justification="",
        actor=Actor.system(),
    )


def test_grant_withdraw_and_see_the_disclosure(
    live_server,
    person,
    delivery,
    new_context: Callable[[], BrowserContext],  # noqa: F811  # the fixture
    recorder: Recorder,  # noqa: F811  # the fixture
) -> None:
    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Login").fill("nadia")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.goto(f"{live_server.url}/account/")
    page.get_by_role("link", name="Sharing your data").first.click()
    expect(page.get_by_role("heading", name="Sharing your data", level=1)).to_be_visible()
    choice = page.locator(f"[data-share-purpose='{delivery.pk}']")
    expect(choice).to_contain_text("to deliver the goods you order")
    expect(page.locator("[data-no-disclosures]")).to_be_visible()

    # Refused while there is no consent.
    assert isinstance(_share(person), services.Refusal)

    choice.get_by_role("button", name="Agree to share with FastPost Couriers").click()
    expect(page.get_by_role("status")).to_contain_text("You agreed")
    expect(choice.locator("[data-share-state]")).to_have_attribute("data-share-state", "granted")

    released = _share(person)
    assert isinstance(released, services.Release)

    choice.get_by_role("button", name="Stop sharing with FastPost Couriers").click()
    expect(page.get_by_role("status")).to_contain_text("You withdrew your consent")
    expect(choice.locator("[data-share-state]")).to_have_attribute("data-share-state", "withdrawn")
    assert isinstance(_share(person), services.Refusal)

    rows = page.locator("[data-disclosure]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FastPost Couriers")
    expect(rows.first).to_contain_text("name, mailing address")
    expect(rows.first).to_contain_text("With your consent")
    history = page.locator(".share-history li")
    expect(history).to_have_count(2)

    assert recorder.foreign_requests(live_server.url) == []
    assert recorder.csp_violations() == []
    assert recorder.page_errors == []
    assert recorder.server_errors == []

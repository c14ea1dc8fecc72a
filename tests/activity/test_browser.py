"""In Chromium: sign in, see it in the activity, pay with a test card, rename and sign out
a device."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from safehold.activity.models import Device, Payment
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import browser, new_context, recorder  # noqa: F401  # the fixtures

pytest.importorskip("playwright")
from playwright.sync_api import expect  # after the import check

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from tests.e2e.conftest import Recorder

pytestmark = pytest.mark.browser


def nav(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation", name="Your account")


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Login").fill("alice")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).not_to_have_url(f"{url}/accounts/login/")


def test_activity_payment_and_devices_in_the_browser(
    live_server,
    alice,
    new_context: Callable[[], BrowserContext],  # noqa: F811  # the fixture imported above
    recorder: Recorder,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    laptop = new_context().new_page()
    _sign_in(laptop, url)

    # The sign-in shows in the activity, and the filter narrows to it.
    laptop.goto(f"{url}/account/")
    nav(laptop).get_by_role("link", name="Activity", exact=True).click()
    expect(laptop.locator("#access-records")).to_contain_text("Sign-in")
    laptop.get_by_label("Kind").select_option("sign-in")
    laptop.get_by_role("button", name="Show").click()
    rows = laptop.locator("#access-records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Succeeded")

    # Pay with a test card; the payment is listed, the number is not kept.
    nav(laptop).get_by_role("link", name="Payments", exact=True).click()
    laptop.get_by_role("link", name="Make a payment").click()
    laptop.get_by_label("Amount").fill("19.99")
    laptop.get_by_label("Currency").select_option("EUR")
    laptop.get_by_label("Card number").fill("4242 4242 4242 4242")
    laptop.get_by_label("Expiry (MM/YY)").fill("12/39")
    laptop.get_by_label("Security code").fill("123")
    laptop.get_by_role("button", name="Pay").click()
    expect(laptop.get_by_role("status")).to_contain_text("Paid 19.99 EUR.")
    expect(laptop.locator("#payments")).to_contain_text("VISA ending 4242")
    expect(laptop.locator("#payments")).to_contain_text("19.99 EUR")
    assert Payment.objects.get(user=alice).last4 == "4242"

    # A second browser signs in: a second device, which the first renames and signs out.
    phone = new_context().new_page()
    _sign_in(phone, url)
    assert Device.objects.filter(user=alice).count() == 2
    nav(laptop).get_by_role("link", name="Devices", exact=True).click()
    other = laptop.locator("#devices tbody tr").filter(has_not_text="this device")
    expect(other).to_have_count(1)
    other.get_by_label("Name").fill("Phone in the drawer")
    other.get_by_role("button", name="Rename").click()
    expect(laptop.locator("#devices")).to_contain_text("Phone in the drawer")
    other = laptop.locator("#devices tbody tr").filter(has_text="Phone in the drawer")
    expect(other).to_contain_text("1 signed-in session")
    other.get_by_role("button", name="Sign out").click()
    expect(laptop.get_by_role("status")).to_contain_text("Signed the device out of 1 session.")

    phone.goto(f"{url}/account/")
    expect(phone).to_have_url(f"{url}/accounts/login/?next=/account/")
    laptop.goto(f"{url}/account/devices/")
    expect(laptop.locator("#devices")).to_contain_text("this device")  # still signed in

    assert recorder.foreign_requests(url) == []
    assert recorder.csp_violations() == []
    assert recorder.page_errors == []
    assert recorder.server_errors == []

"""A person's "Who saw my data" page checks its audit proofs in the browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from safehold.audit.models import Event
from tests.conftest import TEST_PASSWORD

pytest.importorskip("playwright")
from playwright.sync_api import expect  # after the import check

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

    from tests.e2e.conftest import Recorder

pytestmark = pytest.mark.browser


def test_reveals_are_listed_with_proofs_the_browser_verifies(
    live_server, make_user, new_context: Callable[[], BrowserContext], recorder: Recorder
) -> None:  # type: ignore[no-untyped-def]
    person = make_user("nadia", name="Nadia Kaur", phone="+447911123456")
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    staff = Client()
    staff.post("/accounts/login/", {"login": "clerk", "password": TEST_PASSWORD})
    for field, purpose, note in (("phone", "support", ""), ("name", "other", "checking a refund")):
        response = staff.post(
            f"/admin/accounts/user/{person.pk}/reveal/{field}/",
            {"purpose": purpose, "explanation": note},
        )
        assert response.status_code == 200
    assert Event.objects.filter(event_type="pii:revealed", subject_id=str(person.pk)).count() == 2
    from safehold.audit import services

    services.make_checkpoint()

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Login").fill("nadia")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.goto(f"{live_server.url}/account/access/")
    entries = page.locator("[data-audit-entry]")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("saw your name unmasked")
    expect(entries.nth(0)).to_contain_text("checking a refund")
    expect(entries.nth(1)).to_contain_text("a support request from you")
    for i in range(2):
        expect(entries.nth(i).locator("[data-audit-status]")).to_have_attribute("data-result", "ok")
    expect(page.locator("[data-audit-checkpoint-status]")).to_have_attribute("data-result", "ok")
    assert recorder.foreign_requests(live_server.url) == []
    assert recorder.csp_violations() == []
    assert recorder.page_errors == []

    # A proof that does not belong to the checkpoint is shown as failed, not as verified.
    page.evaluate("""() => {
        const el = document.querySelector('[data-audit-entry][data-proof]');
        el.dataset.seq = String(Number(el.dataset.seq) + 1);
    }""")
    page.evaluate("() => document.dispatchEvent(new Event('DOMContentLoaded'))")
    expect(entries.nth(0).locator("[data-audit-status]")).to_have_attribute("data-result", "failed")

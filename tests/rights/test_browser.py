"""In Chromium: a person downloads their data, then asks for their account to be deleted."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from safehold.jobs.worker import run_pending
from safehold.rights.models import Erasure, Export
from tests.conftest import TEST_PASSWORD

pytest.importorskip("playwright")
from playwright.sync_api import expect  # after the import check

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import BrowserContext

    from tests.e2e.conftest import Recorder

pytestmark = pytest.mark.browser


def test_a_person_downloads_their_data_and_asks_for_deletion(
    live_server,
    make_user,
    new_context: Callable[[], BrowserContext],
    recorder: Recorder,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    person = make_user("nadia", name="Nadia Kaur", phone="+447911123456")
    context = new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Login").fill("nadia")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()

    page.goto(f"{live_server.url}/account/")
    page.get_by_role("link", name="Download my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download my data")
    page.get_by_role("button", name="Prepare my archive").click()
    expect(page.locator(".messages")).to_contain_text("We are preparing your archive")
    expect(page.get_by_role("button", name="Prepare my archive")).to_be_disabled()
    assert run_pending() >= 1  # the worker's turn
    assert Export.objects.get(user=person).status == Export.Status.READY

    page.reload()
    page.get_by_role("link", name="Download", exact=True).click()
    # A fresh sign-in first.
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_download() as info:
        page.get_by_role("button", name="Confirm").click()
    saved = tmp_path / "archive.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        data = json.loads(archive.read("data.json"))
        html = archive.read("index.html").decode()
    assert data["sections"]["profile"]["rows"][0]["name"] == "Nadia Kaur"
    assert "Nadia Kaur" in html

    page.goto(f"{live_server.url}/account/")
    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="What must be kept by law")).to_be_visible()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".errorlist")).to_contain_text("Tick the box")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account will be deleted")
    expect(page.locator(".messages")).to_contain_text("sign in before then")
    assert Erasure.objects.get(user=person).status == Erasure.Status.PENDING
    page.goto(f"{live_server.url}/account/")
    assert "/accounts/login/" in page.url  # signed out

    assert recorder.foreign_requests(live_server.url) == []
    assert recorder.csp_violations() == []
    assert recorder.page_errors == []
    assert recorder.server_errors == []

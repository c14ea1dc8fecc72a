"""Maintenance mode: read-only with a notice, sign-in and exports off for people, staff at work."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from safehold.audit.models import Event
from safehold.audit.services import Actor
from safehold.ops import services
from tests.conftest import TEST_PASSWORD

MESSAGE = "We are dealing with an attack; back by 18:00 UTC."


@pytest.fixture
def closed(db):  # type: ignore[no-untyped-def]
    services.set_maintenance(True, actor=Actor.system(), message=MESSAGE, retry_after=600)
    yield
    services.set_maintenance(False, actor=Actor.system())


def test_pages_stay_readable_with_a_notice(client, closed) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "ops-maintenance-banner" in page
    assert MESSAGE in page
    assert "/static/ops/ops.css" in page


def test_writes_are_refused_with_503_and_lose_nothing(alice_client, alice, closed) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.post(
        "/account/profile/", {"name": "Changed", "mailing_address": "", "phone": ""}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "600"
    assert "Temporarily closed" in response.content.decode()
    alice.refresh_from_db()
    assert alice.name != "Changed"
    # Reading one's own account still works.
    assert alice_client.get("/account/").status_code == 200


def test_sign_in_sign_up_and_exports_are_off_for_people(client, alice, closed) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/accounts/signup/").status_code == 503
    assert client.get("/accounts/password/reset/").status_code == 503
    assert client.get("/account/export/").status_code == 503
    # The sign-in page is there (for staff), but a person who signs in is signed out again.
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"login": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session


def test_api_writes_get_a_problem_document(client, closed) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/consent/choices", data="{}", content_type="application/json")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/problem+json")
    assert json.loads(response.content)["code"] == "maintenance"
    assert response["Retry-After"] == "600"


def test_staff_can_sign_in_and_work_in_the_admin(client, make_user, closed) -> None:  # type: ignore[no-untyped-def]
    make_user("boss", is_staff=True, is_superuser=True)
    response = client.post("/accounts/login/", {"login": "boss", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    response = client.post(
        "/admin/ops/incident/add/",
        {
            "title": "Probe",
            "summary": "A probe of the sign-in page.",
            "advice": "",
            "discovered_at_0": "2026-11-25",
            "discovered_at_1": "10:00:00",
            "data_categories": ["contact"],
            "affected-TOTAL_FORMS": "0",
            "affected-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    # Signing out always works.
    assert client.post("/accounts/logout/").status_code == 302


def test_off_reopens_and_every_switch_is_recorded(alice_client, alice, db) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("maintenance", "on", "--message", MESSAGE, stdout=out)
    assert "ON" in out.getvalue()
    assert alice_client.post("/account/profile/", {"name": "X"}).status_code == 503
    out = io.StringIO()
    call_command("maintenance", "status", stdout=out)
    assert "ON" in out.getvalue()
    assert MESSAGE in out.getvalue()
    call_command("maintenance", "off", stdout=io.StringIO())
    response = alice_client.post(
        "/account/profile/", {"name": "Reopened", "mailing_address": "", "phone": ""}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Reopened"
    types = list(
        Event.objects.filter(event_type__startswith="maintenance:").values_list(
            "event_type", flat=True
        )
    )
    assert types == ["maintenance:on", "maintenance:off"]

"""A material version in force: signed-in people acknowledge it once before going on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safehold.audit.events import EventType
from safehold.audit.services import events_about
from safehold.policy import services
from safehold.policy.models import Acknowledgement
from tests.policy.conftest import v1_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def material_v2(publish, clock, alice):  # type: ignore[no-untyped-def]
    """Version 2, a material change, published ahead and in force a day later."""
    text = v1_text().replace(
        "We keep only what we need", "We keep only what we need, and delete it after a year,"
    )
    return publish(
        {"en": text},
        material=True,
        effective_at=clock.now() + timedelta(days=1),
        summaries={"en": "We now delete data after a year."},
    )


def test_nobody_is_asked_before_a_material_version_takes_effect(alice_client, material_v2) -> None:  # type: ignore[no-untyped-def]
    assert alice_client.get("/account/").status_code == 200


def test_a_signed_in_person_is_asked_once_with_a_link_to_the_changes(
    alice_client, alice, material_v2, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.forward(timedelta(days=2))

    page = alice_client.get("/account/sessions/?sort=recent")
    assert page.status_code == 302
    assert page["Location"] == "/privacy/acknowledge/?next=%2Faccount%2Fsessions%2F%3Fsort%3Drecent"
    ask = alice_client.get(page["Location"])
    assert ask.status_code == 200
    html = ask.content.decode()
    assert "We now delete data after a year." in html
    assert "/privacy/diff/1...2/" in html  # from the version in force when she joined
    # Still asked on the next page until she acknowledges (nothing else is skipped).
    assert alice_client.get("/account/").status_code == 302

    done = alice_client.post(
        "/privacy/acknowledge/", {"version": 2, "next": "/account/sessions/?sort=recent"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/account/sessions/?sort=recent"
    ack = Acknowledgement.objects.get(user=alice)
    assert ack.version.number == 2
    assert ack.acknowledged_at is not None
    assert alice_client.get("/account/").status_code == 200  # once, not again
    centre = alice_client.get("/account/").content.decode()
    assert "Version 2, on" in centre
    assert "Version 2" in alice_client.get("/privacy/account/").content.decode()
    assert [e.event_type for e in events_about(alice.pk)].count(
        EventType.STATEMENT_ACKNOWLEDGED
    ) == 1
    # A second acknowledgement (another tab) records nothing new.
    alice_client.post("/privacy/acknowledge/", {"version": 2})
    assert Acknowledgement.objects.filter(user=alice).count() == 1


def test_the_question_never_blocks_the_statement_the_api_sign_out_or_a_form(
    alice_client, material_v2, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.forward(timedelta(days=2))
    assert alice_client.get("/privacy/").status_code == 200
    assert alice_client.get("/privacy/diff/1...2/").status_code == 200
    assert alice_client.get("/api/v1/statement").status_code == 200  # a session may read it
    assert alice_client.get("/static/policy/policy.css").status_code == 200
    form = alice_client.post("/account/profile/", {"name": "Alice"})  # a write is never lost
    assert "acknowledge" not in form.get("Location", "")
    out = alice_client.post("/accounts/logout/")
    assert out.status_code == 302
    assert "acknowledge" not in out["Location"]


def test_people_who_joined_after_it_took_effect_are_not_asked(
    client, make_user, material_v2, clock
) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_PASSWORD

    clock.forward(timedelta(days=2))
    bob = make_user("bob")
    bob.date_joined = clock.now()
    bob.save(update_fields=["date_joined"])
    client.post("/accounts/login/", {"login": "bob", "password": TEST_PASSWORD})
    assert client.get("/account/").status_code == 200
    assert services.pending_acknowledgement(bob) is None


def test_a_later_non_material_version_still_needs_the_material_change_acknowledged(
    alice_client, alice, material_v2, publish, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.forward(timedelta(days=2))
    v3 = publish({"en": v1_text() + "\nA typo fixed.\n"})
    pending = services.pending_acknowledgement(alice)
    assert pending is not None
    assert pending.number == v3.number
    alice_client.post("/privacy/acknowledge/", {"version": v3.number})
    assert services.pending_acknowledgement(alice) is None


def test_a_version_not_in_force_cannot_be_acknowledged(alice_client, alice, material_v2) -> None:  # type: ignore[no-untyped-def]
    answer = alice_client.post("/privacy/acknowledge/", {"version": 2}, follow=True)
    assert "not in force yet" in answer.content.decode()
    assert not Acknowledgement.objects.filter(user=alice).exists()
    answer = alice_client.post("/privacy/acknowledge/", {"version": "x"}, follow=True)
    assert "does not exist" in answer.content.decode()


def test_next_never_leads_to_another_site(alice_client, material_v2, clock) -> None:  # type: ignore[no-untyped-def]
    clock.forward(timedelta(days=2))
    done = alice_client.post(
        "/privacy/acknowledge/", {"version": 2, "next": "https://evil.example/"}
    )
    assert done["Location"] == "/account/"

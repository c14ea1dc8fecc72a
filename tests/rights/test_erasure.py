"""'Delete my account': a grace period that signing in cancels, then erasure that leaves
nothing readable, touches no one else, and keeps the audit log verifiable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages

from safehold.accounts.models import SignedInSession, User
from safehold.audit.events import ActorKind, EventType
from safehold.audit.services import Actor, events_about
from safehold.audit.verify import verify_log
from safehold.jobs.models import Job
from safehold.jobs.worker import run_pending
from safehold.rights import services
from safehold.rights.models import Erasure, Export, Tombstone
from safehold.vault import keys
from safehold.vault.fields import is_erased
from tests.conftest import TEST_PASSWORD
from tests.rights.conftest import (
    SECRETS,
    read_archive,
    reauthenticate,
    scan_columns,
    signed_in_client,
)
from tests.rights.test_export import _give_records_of_other_apps

pytestmark = pytest.mark.django_db

BOB_IP = "203.0.113.9"


def _events(user: User) -> list[str]:
    return [str(e.event_type) for e in events_about(user.pk)]


def _ask_on_the_page(username: str = "zq") -> None:
    client = signed_in_client(username)
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = reauthenticate(client, response["Location"])  # allauth replays the request
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/account/delete/scheduled/"


def test_the_page_says_what_is_erased_and_what_is_kept(person: User, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_ERASURE_GRACE_DAYS = 21
    page = signed_in_client("zq").get("/account/delete/").content.decode()
    assert "What will be erased" in page
    assert "What must be kept by law" in page
    assert "Payment records" in page
    assert "21 days" in page


def test_asking_needs_the_box_ticked_and_a_fresh_sign_in(person: User) -> None:
    client = signed_in_client("zq")
    reauthenticate(client)
    response = client.post("/account/delete/", {})
    assert response.status_code == 200
    assert "Tick the box" in response.content.decode()
    assert not Erasure.objects.exists()


def test_asking_schedules_erasure_signs_out_everywhere_and_mails(
    person: User, smtp_sink, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    other_browser = signed_in_client("zq")
    with django_capture_on_commit_callbacks(execute=True):
        _ask_on_the_page()
    erasure = Erasure.objects.get(user=person)
    assert erasure.status == Erasure.Status.PENDING
    assert erasure.reason == Erasure.Reason.PERSON
    delta = erasure.erase_after - erasure.requested_at
    assert delta == timedelta(days=14)
    assert not SignedInSession.objects.filter(user=person).exists()
    assert other_browser.get("/account/").status_code == 302  # signed out there too
    assert EventType.ERASURE_REQUESTED in _events(person)
    job = Job.objects.get(name=services.ERASE_TASK)
    assert job.run_at == erasure.erase_after
    (mail,) = [m for m in smtp_sink.to(SECRETS["email"]) if "deleted" in m["Subject"]]
    assert "sign in before then" in smtp_sink.body(mail)
    # Nothing is erased yet: the grace period has only started.
    assert run_pending() == 0 or Erasure.objects.get(pk=erasure.pk).status == "pending"
    person.refresh_from_db()
    assert person.name == SECRETS["name"]


def test_signing_in_during_the_grace_period_cancels_and_restores_everything(
    person: User, travel
) -> None:  # type: ignore[no-untyped-def]
    _ask_on_the_page()
    travel(timedelta(days=13))
    client = signed_in_client("zq")
    page = client.get("/account/")
    assert page.status_code == 200
    shown = [str(m) for m in get_messages(page.wsgi_request)] + [page.content.decode()]
    assert any("has been cancelled" in text for text in shown)
    erasure = Erasure.objects.get(user=person)
    assert erasure.status == Erasure.Status.CANCELLED
    cancelled = [e for e in events_about(person.pk) if e.event_type == EventType.ERASURE_CANCELLED]
    assert len(cancelled) == 1
    assert cancelled[0].actor_kind == ActorKind.PERSON
    # Past the grace period the scheduled job runs and leaves everything as it was.
    travel(timedelta(days=15))
    run_pending()
    person.refresh_from_db()
    assert person.is_active
    assert (person.name, person.phone, person.mailing_address) == (
        SECRETS["name"],
        SECRETS["phone"],
        SECRETS["address"],
    )
    assert EmailAddress.objects.filter(user=person).count() == 2
    assert not Tombstone.objects.exists()
    assert not keys.is_shredded(person.data_key)
    export, _ = services.request_export(person, actor=Actor.system())
    services.build_export(export.pk)
    assert read_archive(export).data["sections"]["profile"]["rows"][0]["name"] == SECRETS["name"]


def test_after_the_grace_period_nothing_readable_is_left_and_others_are_untouched(
    person: User, make_user, travel
) -> None:  # type: ignore[no-untyped-def]
    bob = make_user("bob")
    bob_client = signed_in_client("bob", ip=BOB_IP)
    response = bob_client.post(
        "/account/profile/",
        {"name": "Bob Builder", "mailing_address": "1 Quay St", "phone": "+44 7911 123457"},
    )
    assert response.status_code == 302
    _give_records_of_other_apps(person)
    export, _ = services.request_export(person, actor=Actor.system())
    run_pending()
    export.refresh_from_db()
    assert export.status == Export.Status.READY
    _ask_on_the_page()
    travel(timedelta(days=14, minutes=1))
    assert run_pending() >= 1

    erasure = Erasure.objects.get(user=person)
    assert erasure.status == Erasure.Status.COMPLETED
    assert erasure.counts["email_addresses"] == 2
    assert erasure.counts["exports"] == 1
    tombstone = Tombstone.objects.get(user_id=person.pk)
    assert tombstone.reason == Erasure.Reason.PERSON
    person = User.objects.get(pk=person.pk)
    assert person.username.startswith("erased-")
    assert person.email == ""
    assert not person.is_active
    assert not person.has_usable_password()
    assert keys.is_shredded(person.data_key)
    assert all(is_erased(v) or v == "" for v in (person.name, person.phone))
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not SignedInSession.objects.filter(user=person).exists()
    assert not Export.objects.filter(user=person).exists()
    assert not list(services.export_dir().glob(f"{export.public_id.hex}*"))
    assert (
        scan_columns(
            {
                "name": SECRETS["name"],
                "address": SECRETS["address"],
                "phone": SECRETS["phone"],
                "e-mail": SECRETS["email"],
                "other e-mail": "zq.other@example.test",
                "ip": SECRETS["ip"],
                "message": "What do you keep about me?",
            }
        )
        == []
    )
    # Payments are kept for accounting, minimised and detached from the person.
    from safehold.activity.models import Payment

    (payment,) = Payment.objects.all()
    assert payment.user_id is None
    assert payment.amount_minor == 1250
    # Bob is untouched.
    bob.refresh_from_db()
    assert (bob.name, bob.phone, bob.is_active) == ("Bob Builder", "+447911123457", True)
    assert EmailAddress.objects.filter(user=bob).exists()
    assert bob_client.get("/account/").status_code == 200
    # The log still verifies, and says what happened (with no one's data in it).
    report = verify_log()
    assert report.ok, report.problems
    assert EventType.ERASURE_COMPLETED in _events(person)
    completed = next(e for e in events_about(person.pk) if e.event_type == "erasure:completed")
    assert completed.detail_dict["reason"] == "person-request"
    # Signing in is impossible now.
    client = signed_in_client.__wrapped__ if hasattr(signed_in_client, "__wrapped__") else None
    del client
    from django.test import Client

    response = Client().post("/accounts/login/", {"login": "zq", "password": TEST_PASSWORD})
    assert response.status_code == 200  # the form again, with its error


def test_erasure_runs_once_however_often_its_job_runs(person: User) -> None:
    erasure, _ = services.request_erasure(person, actor=Actor.system(), grace=timedelta(0))
    assert services.run_erasure(erasure.pk).done
    assert services.run_erasure(erasure.pk).done
    assert _events(person).count(EventType.ERASURE_COMPLETED) == 1


def test_a_crash_between_the_steps_is_finished_by_the_next_run(person: User) -> None:
    erasure, _ = services.request_erasure(person, actor=Actor.system(), grace=timedelta(0))
    services.erase_rows(erasure.pk)  # then the worker died: key not shredded, not completed
    erasure.refresh_from_db()
    assert erasure.status == Erasure.Status.ERASING
    assert not keys.is_shredded(User.objects.get(pk=person.pk).data_key)
    assert services.sweep_erasures() == 1
    run_pending()
    erasure.refresh_from_db()
    assert erasure.status == Erasure.Status.COMPLETED
    assert keys.is_shredded(User.objects.get(pk=person.pk).data_key)
    assert erasure.counts["email_addresses"] == 2  # the counts of the first run are kept


def test_an_administrator_cannot_delete_their_own_account_here(make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("root", is_superuser=True, is_staff=True)
    client = signed_in_client("root")
    reauthenticate(client)
    response = client.post("/account/delete/", {"confirm": "on"})
    assert response.status_code == 200
    assert "administrator" in response.content.decode()
    assert not Erasure.objects.exists()


def test_staff_erase_on_request_with_a_stated_reason(person: User, make_user) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    make_user("admin", is_superuser=True, is_staff=True)
    staff = Client()
    staff.force_login(User.objects.get(username="admin"))
    form = staff.get("/admin/rights/erasure/add/").content.decode()
    assert "Stated reason" in form
    assert "Erase at once" in form
    response = staff.post(
        "/admin/rights/erasure/add/",
        {
            "user_id": person.pk,
            "reason": "staff-request",
            "note": "Letter of 3 May, identity checked",
            "immediately": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    erasure = Erasure.objects.get(user=person)
    assert erasure.reason == Erasure.Reason.STAFF
    assert erasure.requested_by is not None
    run_pending()
    erasure.refresh_from_db()
    assert erasure.status == Erasure.Status.COMPLETED
    for page in ("erasure", "export", "tombstone"):
        assert staff.get(f"/admin/rights/{page}/").status_code == 200
    assert staff.get(f"/admin/rights/erasure/{erasure.pk}/change/").status_code == 200
    requested = next(e for e in events_about(person.pk) if e.event_type == "erasure:requested")
    assert requested.actor_kind == ActorKind.STAFF
    assert "Letter" not in requested.detail
    assert verify_log().ok


def test_staff_form_refuses_unknown_and_erased_people(person: User, make_user) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    make_user("admin", is_superuser=True, is_staff=True)
    staff = Client()
    staff.force_login(User.objects.get(username="admin"))
    form = {"reason": "legal", "note": "court order"}
    response = staff.post("/admin/rights/erasure/add/", {**form, "user_id": 999_999})
    assert response.status_code == 200
    assert "No account" in response.content.decode()
    assert not Erasure.objects.exists()

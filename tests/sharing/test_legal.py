"""Legal requests: the two-person rule, signed and expiring approvals, exactly the approved
scope, the person told (or not, under an order, until its review date)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from safehold.audit.models import Event
from safehold.sharing import services
from safehold.sharing.exceptions import (
    InvalidLegalRequest,
    NotLegalStaff,
    Reason,
    SelfApproval,
)
from safehold.sharing.models import Disclosure, LegalRequest
from tests.sharing.conftest import actor_of

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4 production order 2026/117 for account nadia\n"


def record(person: Any, staff: Any, **kw: Any) -> LegalRequest:
    args: dict[str, Any] = {
        "person": person,
        "authority_name": "Leeds Crown Court",
        "authority_type": "court",
        "instrument": "production order",
        "reference": "2026/117",
        "categories": ["name", "phone"],
        "period_start": None,
        "period_end": None,
        "document": services.Document("order.pdf", PDF),
        "gag_review_date": None,
        "staff": staff,
        "actor": actor_of(staff),
    }
    args.update(kw)
    return services.record_legal_request(**args)


def approve(request: LegalRequest, staff: Any) -> LegalRequest:
    return services.decide_legal_request(request, approve=True, staff=staff, actor=actor_of(staff))


def release(request: LegalRequest, staff: Any) -> services.LegalPackage:
    return services.release_legal_request(request, staff=staff, actor=actor_of(staff))


def test_a_legal_request_cannot_be_approved_by_its_requester(person, clerk, counsel) -> None:
    request = record(person, clerk)
    with pytest.raises(SelfApproval):
        approve(request, clerk)
    request.refresh_from_db()
    assert request.status == LegalRequest.Status.PENDING
    assert request.decided_by is None
    # The attempt is in the log, and nothing can be released.
    assert Event.objects.filter(event_type="share:legal:approval-refused").count() == 1
    package = release(request, counsel)
    assert isinstance(package.result, services.Refusal)
    assert package.result.reason == Reason.APPROVAL_MISSING
    assert package.archive == b""
    assert Disclosure.objects.count() == 0
    # The second person can.
    approved = approve(request, counsel)
    assert approved.status == LegalRequest.Status.APPROVED
    assert approved.decided_by == counsel


def test_only_staff_with_the_legal_role_take_part(person, clerk, make_user) -> None:
    helpdesk = make_user("helpdesk", is_staff=True)
    with pytest.raises(NotLegalStaff):
        record(person, helpdesk)
    request = record(person, clerk)
    with pytest.raises(NotLegalStaff):
        approve(request, helpdesk)


def test_the_released_package_holds_exactly_the_approved_scope(
    person, clerk, counsel, smtp_sink, django_capture_on_commit_callbacks
) -> None:
    request = record(person, clerk, categories=["name", "phone"])
    approve(request, counsel)
    with django_capture_on_commit_callbacks(execute=True):
        package = release(request, counsel)
    assert isinstance(package.result, services.Release)
    with zipfile.ZipFile(io.BytesIO(package.archive)) as archive:
        assert sorted(archive.namelist()) == ["data.json", "manifest.json"]
        data = json.loads(archive.read("data.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert data == {"name": "Nadia Kaur", "phone": "+447911123456"}
    assert manifest["categories"] == ["name", "phone"]
    assert manifest["reference"] == "2026/117"
    assert manifest["legal_request"] == request.pk
    disclosure = Disclosure.objects.get()
    assert disclosure.basis == "legal"
    assert disclosure.recipient is None
    assert disclosure.recipient_name == "Leeds Crown Court"
    assert disclosure.hidden_until is None
    request.refresh_from_db()
    assert request.status == LegalRequest.Status.RELEASED
    # Released once; a second release is refused.
    again = release(request, counsel)
    assert again.result.reason == Reason.ALREADY_RELEASED  # type: ignore[union-attr]
    assert Disclosure.objects.count() == 1
    # No order: the person is told by e-mail, without the values.
    (message,) = smtp_sink.to("nadia@example.test")
    body = smtp_sink.body(message)
    assert "Leeds Crown Court" in body
    assert "phone number" in body
    assert "+447911123456" not in body


def test_records_outside_the_approved_period_are_left_out(person, clerk, counsel) -> None:
    from safehold.core import registry

    if not any(e.name == "access_records" for e in registry.exporters()):
        pytest.skip("the activity app's access records are not installed")
    from safehold.activity import services as activity

    now = timezone.now()
    for days_ago in (40, 20, 5):
        activity.record_access(person, kind="sign-in", at=now - timedelta(days=days_ago))
    today = timezone.localdate()
    request = record(
        person,
        clerk,
        categories=["access_records"],
        period_start=today - timedelta(days=30),
        period_end=today - timedelta(days=10),
    )
    approve(request, counsel)
    package = release(request, counsel)
    assert isinstance(package.result, services.Release)
    records = package.result.data["access_records"]
    assert len(records) == 1
    assert records[0]["time"].startswith((now - timedelta(days=20)).date().isoformat())


def test_an_expired_approval_is_refused(person, clerk, counsel, monkeypatch, settings) -> None:
    settings.SAFEHOLD_SHARING_APPROVAL_HOURS = 2
    request = record(person, clerk)
    approve(request, counsel)
    later = timezone.now() + timedelta(hours=3)
    monkeypatch.setattr(services, "_now", lambda: later)
    package = release(request, counsel)
    assert package.result.reason == Reason.APPROVAL_EXPIRED  # type: ignore[union-attr]
    assert Disclosure.objects.count() == 0
    refused = Event.objects.filter(event_type="share:refused").count()
    assert refused == 1
    # Reopened, approved again by the second person, it can be released.
    services.reapprove_expired(request, staff=counsel, actor=actor_of(counsel))
    approve(request, counsel)
    assert isinstance(release(request, counsel).result, services.Release)


def test_a_forged_approval_is_refused(person, clerk, counsel) -> None:
    # The requester "approves" by writing the database directly: same person twice.
    request = record(person, clerk)
    LegalRequest.objects.filter(pk=request.pk).update(
        status=LegalRequest.Status.APPROVED,
        decided_by=clerk,
        decided_at=timezone.now(),
        approval_expires_at=timezone.now() + timedelta(hours=1),
    )
    package = release(request, counsel)
    assert package.result.reason == Reason.APPROVAL_FORGED  # type: ignore[union-attr]
    # Or names someone else, without the installation's signature.
    LegalRequest.objects.filter(pk=request.pk).update(decided_by=counsel)
    package = release(request, counsel)
    assert package.result.reason == Reason.APPROVAL_FORGED  # type: ignore[union-attr]
    assert Disclosure.objects.count() == 0
    reasons = [
        json.loads(bytes(d).split(b"\t")[9] or b"{}")["reason"]
        for d in Event.objects.filter(event_type="share:refused").values_list("data", flat=True)
    ]
    assert reasons == ["approval_forged", "approval_forged"]


def test_a_scope_widened_after_approval_is_refused(person, clerk, counsel) -> None:
    request = record(person, clerk, categories=["name"])
    approve(request, counsel)
    LegalRequest.objects.filter(pk=request.pk).update(categories=["name", "mailing_address"])
    package = release(request, counsel)
    assert package.result.reason == Reason.APPROVAL_FORGED  # type: ignore[union-attr]
    assert Disclosure.objects.count() == 0


def test_a_gagged_disclosure_stays_hidden_until_its_review_date(
    person, clerk, counsel, smtp_sink, django_capture_on_commit_callbacks, settings
) -> None:
    settings.SAFEHOLD_SHARING_ORDER_REMINDER_DAYS = 7
    today = timezone.localdate()
    review = today + timedelta(days=30)
    request = record(person, clerk, gag_review_date=review)
    approve(request, counsel)
    with django_capture_on_commit_callbacks(execute=True):
        release(request, counsel)
    assert smtp_sink.to("nadia@example.test") == []  # not told
    assert Disclosure.objects.get().hidden_until == review
    assert list(services.visible_disclosures(person, today=today)) == []
    assert list(services.visible_disclosures(person, today=review - timedelta(days=1))) == []

    # A week before: legal staff are reminded, once.
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.review_orders(today=review - timedelta(days=7))
    assert counts == {"reminded": 1, "notified": 0}
    assert len(smtp_sink.to("clerk@example.test")) == 1
    assert len(smtp_sink.to("counsel@example.test")) == 1
    assert str(request.pk) in smtp_sink.body(smtp_sink.to("clerk@example.test")[0])
    assert "Nadia" not in smtp_sink.body(smtp_sink.to("clerk@example.test")[0])
    assert services.review_orders(today=review - timedelta(days=6)) == {
        "reminded": 0,
        "notified": 0,
    }

    # On the review date the order lapses: the person sees it and is told.
    assert [d.pk for d in services.visible_disclosures(person, today=review)] == [
        Disclosure.objects.get().pk
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.review_orders(today=review) == {"reminded": 0, "notified": 1}
    assert len(smtp_sink.to("nadia@example.test")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.review_orders(today=review) == {"reminded": 0, "notified": 0}
    assert len(smtp_sink.to("nadia@example.test")) == 1


def test_an_extended_order_keeps_it_hidden_and_lifting_it_tells_the_person(
    person, clerk, counsel, smtp_sink, django_capture_on_commit_callbacks
) -> None:
    today = timezone.localdate()
    request = record(person, clerk, gag_review_date=today + timedelta(days=10))
    approve(request, counsel)
    release(request, counsel)
    services.change_order(
        request, review_date=today + timedelta(days=100), staff=counsel, actor=actor_of(counsel)
    )
    assert list(services.visible_disclosures(person, today=today + timedelta(days=50))) == []
    with django_capture_on_commit_callbacks(execute=True):
        services.change_order(request, review_date=None, staff=counsel, actor=actor_of(counsel))
    assert len(services.visible_disclosures(person, today=today)) == 1
    assert len(smtp_sink.to("nadia@example.test")) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"categories": []}, "category"),
        ({"categories": ["name", "blood type"]}, "unknown category"),
        ({"reference": "  "}, "reference"),
        ({"period_start": date(2026, 5, 1), "period_end": date(2026, 4, 1)}, "period"),
        ({"document": services.Document("empty.pdf", b"")}, "document"),
        ({"gag_review_date": date(2000, 1, 1)}, "review date"),
    ],
)
def test_incomplete_requests_are_refused(person, clerk, change, message) -> None:
    with pytest.raises(InvalidLegalRequest, match=message):
        record(person, clerk, **change)
    assert LegalRequest.objects.count() == 0


def test_the_document_is_stored_encrypted_and_its_reading_recorded(
    person, clerk, counsel, settings
) -> None:
    request = record(person, clerk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT document, document_name FROM sharing_legalrequest")
        document, name = cursor.fetchone()
    assert b"production order" not in bytes(document)
    assert b"order.pdf" not in bytes(name)
    fresh = LegalRequest.objects.get(pk=request.pk)
    assert services.read_document(fresh, staff=counsel, actor=actor_of(counsel)).content == PDF
    assert Event.objects.filter(event_type="share:legal:document-read").count() == 1
    settings.SAFEHOLD_SHARING_DOCUMENT_MAX_BYTES = 10
    with pytest.raises(InvalidLegalRequest, match="larger"):
        record(person, clerk)


def test_the_transparency_counts_hold_no_personal_data(person, clerk, counsel) -> None:
    released = record(person, clerk)
    approve(released, counsel)
    release(released, counsel)
    rejected = record(
        person, clerk, authority_type="police", authority_name="West Yorkshire Police"
    )
    services.decide_legal_request(rejected, approve=False, staff=counsel, actor=actor_of(counsel))
    record(person, clerk, authority_type="police", authority_name="West Yorkshire Police")
    (period,) = services.transparency_counts()
    lines = {line["authority_type"]: line for line in period["lines"]}
    assert lines["court"]["released"] == 1
    assert lines["police"]["rejected"] == 1
    assert lines["police"]["pending"] == 1
    assert period["total"] == 3
    assert "Nadia" not in str(period)
    assert "Yorkshire" not in str(period)


def test_the_worker_tells_the_person_when_the_order_lapses(
    person, clerk, counsel, smtp_sink, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from safehold.jobs import worker
    from safehold.jobs.models import Job

    review = timezone.localdate() + timedelta(days=3)
    request = record(person, clerk, gag_review_date=review)
    approve(request, counsel)
    release(request, counsel)
    later = timezone.now() + timedelta(days=4)
    monkeypatch.setattr(services, "_now", lambda: later)
    assert "sharing.review_orders" in worker.schedule_periodic()
    with django_capture_on_commit_callbacks(execute=True):
        worker.run_pending()
    job = Job.objects.get(name="sharing.review_orders")
    assert job.status == Job.Status.DONE, job.last_error
    assert len(smtp_sink.to("nadia@example.test")) == 1
    assert len(smtp_sink.to("counsel@example.test")) == 1  # the reminder
    assert len(services.visible_disclosures(person)) == 1

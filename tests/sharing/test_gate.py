"""The share gate: consent, exceptions, refusals with reasons, and what the audit log keeps."""

from __future__ import annotations

from typing import Any

import pytest

from safehold.audit.models import Event
from safehold.audit.services import Actor, EventRecord
from safehold.core import promises
from safehold.sharing import services
from safehold.sharing.checks import check_disclosures_have_a_basis
from safehold.sharing.exceptions import Reason
from safehold.sharing.models import Disclosure, Recipient, ShareConsent, SharingPurpose

pytestmark = pytest.mark.django_db
API = Actor.system()


def share(person: Any, recipient: Any = "fastpost", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "recipient": recipient,
        "person": person,
        "categories": ["name", "mailing_address"],
        "purpose": "delivery",
        "basis": "consent",
        "justification": "",
        "actor": API,
    }
    args.update(kw)
    return services.request_share(**args)


def events(kind: str) -> list[EventRecord]:
    return [
        EventRecord.from_bytes(bytes(data))
        for data in Event.objects.filter(event_type=kind)
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def test_sharing_without_consent_is_refused_and_recorded(person, delivery) -> None:
    result = share(person)
    assert isinstance(result, services.Refusal)
    assert result.reason == Reason.NO_CONSENT
    assert Disclosure.objects.count() == 0
    (refused,) = events("share:refused")
    assert refused.subject_id == str(person.pk)
    assert refused.detail_dict["reason"] == "no_consent"
    assert refused.detail_dict["recipient"] == "fastpost"
    assert refused.detail_dict["categories"] == ["mailing_address", "name"]
    assert refused.detail_dict["released"] == []
    assert events("share:released") == []


def test_after_consent_exactly_the_categories_asked_for_are_released(person, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    result = share(person, categories=["name", "phone"])
    assert isinstance(result, services.Release)
    assert result.data == {"name": "Nadia Kaur", "phone": "+447911123456"}
    disclosure = Disclosure.objects.get()
    assert disclosure.categories == ["name", "phone"]
    assert disclosure.basis == "consent"
    assert disclosure.recipient_name == "FastPost Couriers"
    (released,) = events("share:released")
    assert released.detail_dict["categories"] == ["name", "phone"]
    assert released.detail_dict["disclosure"] == disclosure.pk
    # The log names the categories, never their values.
    raw = b"".join(bytes(d) for d in Event.objects.values_list("data", flat=True))
    for value in (b"Nadia", b"447911", b"High St"):
        assert value not in raw


def test_a_category_the_recipient_may_not_receive_is_refused(person, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    result = share(person, categories=["name", "email"])
    assert isinstance(result, services.Refusal)
    assert result.reason == Reason.CATEGORY_NOT_ALLOWED
    assert Disclosure.objects.count() == 0
    assert events("share:refused")[-1].detail_dict["reason"] == "category_not_allowed"


def test_withdrawing_consent_stops_the_next_share(person, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    assert isinstance(share(person), services.Release)
    services.set_consent(person, delivery, grant=False, actor=API)
    result = share(person)
    assert isinstance(result, services.Refusal)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert Disclosure.objects.count() == 1
    # The history is kept: given, withdrawn; a repeat of the same answer adds nothing.
    assert services.set_consent(person, delivery, grant=False, actor=API) is None
    assert list(ShareConsent.objects.order_by("at", "id").values_list("action", flat=True)) == [
        "granted",
        "withdrawn",
    ]
    assert [e.event_type for e in events("share:consent:granted")] == ["share:consent:granted"]
    assert len(events("share:consent:withdrawn")) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"recipient": "nobody"}, Reason.UNKNOWN_RECIPIENT),
        ({"recipient": None}, Reason.UNKNOWN_RECIPIENT),
        ({"purpose": "marketing"}, Reason.UNKNOWN_PURPOSE),
        ({"purpose": None}, Reason.UNKNOWN_PURPOSE),
        ({"categories": []}, Reason.NO_CATEGORIES),
        ({"categories": ["name", "Nadia's shoe size"]}, Reason.UNKNOWN_CATEGORY),
        ({"basis": "operations", "justification": "why not"}, Reason.BASIS_NOT_ALLOWED),
        ({"basis": "friendship"}, Reason.BASIS_NOT_ALLOWED),
        ({"basis": "legal"}, Reason.APPROVAL_MISSING),
        ({"person": None}, Reason.UNKNOWN_PERSON),
    ],
)
def test_bad_requests_are_refused_with_a_reason_and_recorded(
    person, delivery, change: dict[str, Any], reason: Reason
) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    who = change.pop("person", person)
    result = share(who, **change)
    assert isinstance(result, services.Refusal)
    assert result.reason == reason
    assert result.message
    assert Disclosure.objects.count() == 0
    refused = events("share:refused")[-1]
    assert refused.detail_dict["reason"] == str(reason)
    assert "shoe" not in refused.detail  # client input that is no category is not logged


def test_an_inactive_recipient_is_unknown(person, courier, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    Recipient.objects.filter(pk=courier.pk).update(is_active=False)
    assert share(person).reason == Reason.UNKNOWN_RECIPIENT


def test_an_exception_needs_its_justification(person, fraud_desk) -> None:
    kw = {"categories": ["email"], "purpose": "fraud", "basis": "operations"}
    refused = share(person, "fraudwatch", **kw)
    assert refused.reason == Reason.JUSTIFICATION_MISSING
    released = share(person, "fraudwatch", justification="sign-up from a card-testing ring", **kw)
    assert isinstance(released, services.Release)
    assert released.data == {"email": "nadia@example.test"}
    disclosure = Disclosure.objects.get()
    assert disclosure.basis == "operations"
    assert disclosure.justification == "sign-up from a card-testing ring"
    # Sealed: the justification is not in the row in plain text.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT justification FROM sharing_disclosure")
        (stored,) = cursor.fetchone()
    assert b"card-testing" not in bytes(stored)


def test_a_category_whose_app_is_absent_is_refused(person, courier, delivery, monkeypatch) -> None:
    from safehold.core import registry

    courier.categories = ["name", "payments"]
    courier.save()
    services.set_consent(person, delivery, grant=True, actor=API)
    monkeypatch.setattr(
        registry, "_exporters", [e for e in registry._exporters if e.name != "payments"]
    )
    result = share(person, categories=["payments"])
    assert result.reason == Reason.CATEGORY_UNAVAILABLE
    assert Disclosure.objects.count() == 0


def test_record_categories_come_from_the_other_apps_exporters(person, courier, delivery) -> None:
    from safehold.core import registry

    if not any(e.name == "access_records" for e in registry.exporters()):
        pytest.skip("the activity app's access records are not installed")
    from safehold.activity import services as activity

    activity.record_access(person, kind="sign-in")
    courier.categories = ["name", "access_records"]
    courier.save()
    services.set_consent(person, delivery, grant=True, actor=API)
    result = share(person, categories=["access_records"])
    assert isinstance(result, services.Release)
    assert list(result.data) == ["access_records"]
    assert len(result.data["access_records"]) == 1


def test_the_promise_check_holds_and_catches_a_disclosure_without_basis(person, delivery) -> None:
    assert check_disclosures_have_a_basis().status == promises.Status.HOLDS
    services.set_consent(person, delivery, grant=True, actor=API)
    share(person)
    result = check_disclosures_have_a_basis()
    assert result.status == promises.Status.HOLDS, result.detail
    assert "1 disclosure" in str(result.detail)
    # A consent given only after the disclosure does not cover it.
    consent = ShareConsent.objects.get()
    ShareConsent.objects.filter(pk=consent.pk).update(
        at=Disclosure.objects.get().released_at.replace(year=2099)
    )
    result = check_disclosures_have_a_basis()
    assert result.status == promises.Status.BROKEN
    assert str(Disclosure.objects.get().pk) in str(result.detail)
    assert promises.get("sharing-has-basis") is not None


def test_the_promise_check_finds_a_release_without_its_record(person, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    share(person)
    Disclosure.objects.all().delete()
    assert check_disclosures_have_a_basis().status == promises.Status.BROKEN


def test_consent_is_only_asked_for_recipients_that_rest_on_consent(
    person, delivery, fraud_desk
) -> None:
    choices = services.consent_choices(person)
    assert [c.purpose.code for c in choices] == ["delivery"]
    with pytest.raises(ValueError, match="does not ask for consent"):
        services.set_consent(
            person, SharingPurpose.objects.get(code="fraud"), grant=True, actor=API
        )


def test_export_and_erasure(person, delivery) -> None:
    services.set_consent(person, delivery, grant=True, actor=API)
    share(person)
    rows = list(services.export_rows(person))
    assert [r["type"] for r in rows] == ["consent", "disclosure"]
    assert rows[1]["categories"] == ["name", "mailing_address"]
    assert "Nadia" not in str(rows)
    assert services.erase_person(person) == 1
    assert ShareConsent.objects.count() == 0
    assert Disclosure.objects.count() == 1  # the operator's record that it was lawful

"""POST /api/v1/share: the gate for the operator's other systems."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from safehold.audit.models import Event
from safehold.audit.services import Actor, EventRecord
from safehold.sharing import services
from safehold.sharing.models import Disclosure
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db
URL = "/api/v1/share"


@pytest.fixture
def token(make_key) -> str:  # type: ignore[no-untyped-def]
    return make_key("share:request").token


def post(token: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return Client().post(
        URL, json.dumps(body), content_type="application/json", **bearer(token), **headers
    )


BODY = {
    "recipient": "fastpost",
    "person": "nadia",
    "categories": ["name", "mailing_address"],
    "purpose": "delivery",
    "basis": "consent",
}


def refusals() -> list[dict[str, Any]]:
    return [
        EventRecord.from_bytes(bytes(d)).detail_dict
        for d in Event.objects.filter(event_type="share:refused")
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def test_without_consent_the_api_refuses_and_the_refusal_is_recorded(
    person, delivery, token
) -> None:
    response = post(token, BODY)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["reason"] == "share.no_consent"
    assert problem["code"] in {"forbidden", "share.no_consent"}
    assert "consented" in problem["detail"]
    # The request rolled back, but the refusal is in the audit log, with the key as actor.
    (refused,) = refusals()
    assert refused["reason"] == "no_consent"
    event = Event.objects.get(event_type="share:refused")
    record = EventRecord.from_bytes(bytes(event.data))
    assert record.actor_kind == "api-key"
    assert Disclosure.objects.count() == 0


def test_with_consent_the_package_holds_exactly_what_was_asked(person, delivery, token) -> None:
    services.set_consent(person, delivery, grant=True, actor=Actor.system())
    response = post(token, BODY | {"person": "NADIA@example.test"}, key="ship-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["data"] == {"name": "Nadia Kaur", "mailing_address": "1 High St, Leeds"}
    assert body["categories"] == ["name", "mailing_address"]
    assert body["recipient"] == "fastpost"
    # A retry with the same key is answered again, and discloses nothing more.
    again = post(token, BODY | {"person": "NADIA@example.test"}, key="ship-1")
    assert again.status_code == 201
    assert again.json() == body
    assert again["Idempotent-Replayed"] == "true"
    assert Disclosure.objects.count() == 1
    assert Event.objects.filter(event_type="share:released").count() == 1


def test_after_withdrawal_the_next_share_is_refused(person, delivery, token) -> None:
    services.set_consent(person, delivery, grant=True, actor=Actor.system())
    assert post(token, BODY).status_code == 201
    services.set_consent(person, delivery, grant=False, actor=Actor.system())
    response = post(token, BODY, key="retry-after-withdrawal")
    assert response.status_code == 403
    assert response.json()["reason"] == "share.consent_withdrawn"
    assert Disclosure.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"recipient": "nobody"}, 404, "share.unknown_recipient"),
        ({"person": "ghost"}, 404, "share.unknown_person"),
        ({"purpose": "marketing"}, 404, "share.unknown_purpose"),
        ({"categories": ["name", "email"]}, 403, "share.category_not_allowed"),
        ({"categories": ["favourite colour"]}, 422, "share.unknown_category"),
        ({"categories": []}, 422, "share.no_categories"),
        ({"basis": "operations", "justification": "x"}, 403, "share.basis_not_allowed"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_recorded(
    person, delivery, token, change: dict[str, Any], status: int, reason: str
) -> None:
    services.set_consent(person, delivery, grant=True, actor=Actor.system())
    response = post(token, BODY | change)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["reason"] == reason
    assert [r["reason"] for r in refusals()] == [reason.removeprefix("share.")]
    assert Disclosure.objects.count() == 0


def test_the_scope_is_needed_and_the_body_is_checked(person, delivery, make_key) -> None:
    other = make_key("consent:read").token
    response = post(other, BODY)
    assert response.status_code == 403
    assert response.json()["code"] == "auth.missing_scope"
    token = make_key("share:request").token
    response = post(token, BODY | {"basis": "legal"})
    assert response.status_code == 422  # legal requests go through the staff pages
    response = post(token, BODY | {"extra": 1})
    assert response.status_code == 422
    assert refusals() == []
    assert Client().post(URL, json.dumps(BODY), content_type="application/json").status_code == 401


def test_the_openapi_document_declares_the_refusals() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/share"]["post"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(operation["responses"])


def test_a_nul_character_is_an_unknown_name_not_a_server_error(person, delivery, token) -> None:
    for change in ({"recipient": "fast\x00post"}, {"person": "na\x00dia"}, {"purpose": "\x00"}):
        response = post(token, BODY | change)
        assert response.status_code == 404
        assert response.json()["reason"].startswith("share.unknown_")

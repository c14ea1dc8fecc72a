"""/api/v1/export: the operator's systems start an export; the archive goes to the person."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from safehold.accounts.models import User
from safehold.audit.events import ActorKind, EventType
from safehold.audit.services import Actor, events_about
from safehold.jobs.worker import run_pending
from safehold.rights import services
from safehold.rights.models import Export
from tests.api.conftest import bearer
from tests.api.test_errors import assert_problem
from tests.rights.conftest import signed_in_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/export"


def _post(client, token: str, body: object, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        URL, json.dumps(body), content_type="application/json", **bearer(token), **headers
    )


def test_a_key_starts_an_export_and_follows_it(client, make_key, alice: User) -> None:  # type: ignore[no-untyped-def]
    token = make_key("export:request").token
    response = _post(client, token, {"user_id": alice.pk})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["user_id"] == alice.pk
    export = Export.objects.get(public_id=body["id"])
    assert export.via == Export.Via.API
    requested = next(
        e for e in events_about(alice.pk) if e.event_type == EventType.EXPORT_REQUESTED
    )
    assert requested.actor_kind == ActorKind.API_KEY
    run_pending()
    status = client.get(f"{URL}/{body['id']}", **bearer(token))
    assert status.status_code == 200
    assert status.json()["status"] == "ready"
    assert status.json()["expires_at"] is not None
    assert "archive" not in status.json()  # the caller never gets the data
    reads = [e for e in events_about(alice.pk) if e.event_type == EventType.API_PERSONAL_DATA_READ]
    assert reads[0].detail_dict == {"operation": "export_status"}


def test_asking_again_while_it_is_prepared_answers_the_same_export(client, make_key, alice) -> None:  # type: ignore[no-untyped-def]
    token = make_key("export:request").token
    first = _post(client, token, {"user_id": alice.pk}).json()
    second = _post(client, token, {"user_id": alice.pk}).json()
    assert first["id"] == second["id"]
    assert Export.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_is_answered_again(client, make_key, alice) -> None:  # type: ignore[no-untyped-def]
    token = make_key("export:request").token
    first = _post(client, token, {"user_id": alice.pk}, HTTP_IDEMPOTENCY_KEY="crm-42")
    run_pending()  # the first export is ready now
    retry = _post(client, token, {"user_id": alice.pk}, HTTP_IDEMPOTENCY_KEY="crm-42")
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Export.objects.count() == 1
    again = _post(client, token, {"user_id": alice.pk}, HTTP_IDEMPOTENCY_KEY="crm-43")
    assert again.json()["id"] != first.json()["id"]


def test_unknown_inactive_and_erased_people_are_not_found(client, make_key, make_user) -> None:  # type: ignore[no-untyped-def]
    token = make_key("export:request").token
    assert_problem(_post(client, token, {"user_id": 987654}), 404, "not_found")
    gone = make_user("gone")
    erasure, _ = services.request_erasure(gone, actor=Actor.system(), grace=timedelta(0))
    services.run_erasure(erasure.pk)
    assert_problem(_post(client, token, {"user_id": gone.pk}), 404, "not_found")
    assert not Export.objects.exists()


def test_bad_bodies_and_missing_scopes_are_refused(client, make_key, alice) -> None:  # type: ignore[no-untyped-def]
    token = make_key("export:request").token
    assert_problem(_post(client, token, {}), 422, "validation.failed")
    assert_problem(_post(client, token, {"user_id": "1"}), 422, "validation.failed")
    assert_problem(_post(client, token, {"user_id": 1, "email": "x"}), 422, "validation.failed")
    other = make_key("consent:read").token
    assert_problem(_post(client, other, {"user_id": alice.pk}), 403, "auth.missing_scope")
    assert_problem(
        client.get(f"{URL}/00000000-0000-0000-0000-000000000000", **bearer(token)), 404, "not_found"
    )
    assert not Export.objects.exists()


def test_a_signed_in_person_may_export_only_themselves(make_user, alice) -> None:  # type: ignore[no-untyped-def]
    bob = make_user("bob")
    client = signed_in_client("alice")
    client.get("/account/")
    csrf = client.cookies["csrftoken"].value
    headers = {"HTTP_X_CSRFTOKEN": csrf}
    response = client.post(
        URL, json.dumps({"user_id": alice.pk}), content_type="application/json", **headers
    )
    assert response.status_code == 202, response.content
    assert response.json()["user_id"] == alice.pk
    refused = client.post(
        URL, json.dumps({"user_id": bob.pk}), content_type="application/json", **headers
    )
    assert_problem(refused, 403, "forbidden")
    bobs, _ = services.request_export(bob, actor=Actor.system())
    assert_problem(client.get(f"{URL}/{bobs.public_id}"), 404, "not_found")

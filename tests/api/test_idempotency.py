"""A retried write with the same Idempotency-Key is answered again, never done twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from safehold.api import idempotency
from safehold.api.models import ApiKey, IdempotencyRecord
from tests.api.conftest import bearer
from tests.api.test_errors import NOTES, assert_problem


@pytest.fixture
def writer(make_key, test_routes):  # type: ignore[no-untyped-def]
    return make_key("consent:write").token


def _key_id(token: str) -> int:
    return ApiKey.objects.get(prefix=token.split("_")[2]).pk


def _post(client, token: str, body: dict, key: str | None) -> object:  # type: ignore[no-untyped-def]
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        NOTES, json.dumps(body), content_type="application/json", **bearer(token), **headers
    )


def test_a_retry_gets_the_same_answer_and_the_work_is_done_once(
    client, writer, test_routes
) -> None:  # type: ignore[no-untyped-def]
    first = _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    retry = _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json() == {"id": 1, "count": 3}
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert len(test_routes) == 1
    record = IdempotencyRecord.objects.get()
    assert record.status_code == 201
    assert record.expires_at - record.created_at == timedelta(hours=24)


def test_without_the_header_every_request_does_the_work(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    _post(client, writer, {"text": "hi", "count": 3}, None)
    _post(client, writer, {"text": "hi", "count": 3}, None)
    assert len(test_routes) == 2
    assert IdempotencyRecord.objects.count() == 0


def test_the_same_key_for_a_different_request_is_refused(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    response = _post(client, writer, {"text": "hi", "count": 4}, "order-7f3a")
    assert_problem(response, 422, "idempotency.key_reused")
    assert len(test_routes) == 1


def test_keys_belong_to_their_caller(client, make_key, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    other = make_key("consent:write", name="another system").token
    _post(client, writer, {"text": "hi", "count": 3}, "shared-name")
    response = _post(client, other, {"text": "hi", "count": 3}, "shared-name")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert len(test_routes) == 2


def test_a_refused_request_is_not_stored(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    refused = _post(client, writer, {"text": "hi", "count": -1}, "order-1")
    assert_problem(refused, 422, "validation.failed")
    assert IdempotencyRecord.objects.count() == 0
    # Corrected, the same key goes through.
    assert _post(client, writer, {"text": "hi", "count": 1}, "order-1").status_code == 201


def test_after_24_hours_the_key_may_be_used_again(client, writer, test_routes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    later = timezone.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(idempotency, "_now", lambda: later)
    response = _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert len(test_routes) == 2
    assert idempotency.purge_expired(later + timedelta(hours=25)) == 1


def test_a_retry_while_the_first_is_running_is_told_to_wait(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    # The first request has claimed the key and not finished.
    body = json.dumps({"text": "hi", "count": 3}).encode()
    request_like = type("R", (), {"method": "POST", "path": NOTES, "body": body})()
    owner = f"key:{_key_id(writer)}"
    IdempotencyRecord.objects.create(
        owner=owner,
        key="order-7f3a",
        fingerprint=idempotency._fingerprint(request_like),  # type: ignore[arg-type]  # duck-typed request
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    response = _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    assert_problem(response, 409, "idempotency.in_progress")
    assert response["Retry-After"] == "1"
    assert test_routes == []


def test_a_first_request_that_died_does_not_block_the_key(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    long_ago = timezone.now() - timedelta(minutes=5)
    IdempotencyRecord.objects.create(
        owner=f"key:{_key_id(writer)}",
        key="order-7f3a",
        fingerprint="0" * 64,
        created_at=long_ago,
        expires_at=long_ago + timedelta(hours=24),
    )
    response = _post(client, writer, {"text": "hi", "count": 3}, "order-7f3a")
    assert response.status_code == 201
    assert len(test_routes) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_refused(client, writer, test_routes, key) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, writer, {"text": "hi", "count": 3}, key)
    assert_problem(response, 400, "idempotency.invalid_key")
    assert test_routes == []

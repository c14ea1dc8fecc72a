"""Every failure is a problem document (RFC 9457); bad input is refused and nothing is recorded."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from safehold.api.errors import PROBLEM_TYPES
from safehold.api.models import IdempotencyRecord
from tests.api.conftest import bearer

NOTES = "/api/test/notes"
# A value that must never come back in an answer or a log line: it stands for personal data.
PERSONAL = "wei.zhang@example.test"


def assert_problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    """The response is a well-formed problem document with this status and code."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert set(body) >= {"type", "title", "status", "detail", "code", "request_id"}
    assert body["status"] == status
    assert body["code"] == code
    assert code in PROBLEM_TYPES
    assert body["type"] == f"/api/v1/problems/{code}"
    assert body["title"] == PROBLEM_TYPES[code].title
    assert body["request_id"] == response["X-Request-ID"]
    text = response.content.decode()
    assert "Traceback" not in text
    assert 'File "' not in text
    assert PERSONAL not in text
    return body


def post_note(client: Client, body: bytes | str, token: str, **extra) -> object:  # type: ignore[no-untyped-def]
    content_type = extra.pop("content_type", "application/json")
    return client.post(NOTES, body, content_type=content_type, **bearer(token), **extra)


@pytest.fixture
def writer(make_key, test_routes):  # type: ignore[no-untyped-def]
    return make_key("consent:write").token


def test_unknown_address_under_the_api_is_a_problem(client, db) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_problem(client.get("/api/v1/"), 404, "not_found")
    # Pages outside the API keep their HTML error pages.
    assert client.get("/no-such-page").headers["Content-Type"].startswith("text/html")


def test_wrong_method_is_a_problem_that_keeps_allow(client, make_key) -> None:  # type: ignore[no-untyped-def]
    response = client.delete("/api/v1/me", **bearer(make_key().token))
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_a_problem_type_can_be_looked_up(client, db) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/problems/rate_limited").json()
    assert body == {
        "code": "rate_limited",
        "status": 429,
        "title": "Too many requests",
        "description": PROBLEM_TYPES["rate_limited"].description,
    }
    assert_problem(client.get("/api/v1/problems/no.such.code"), 404, "not_found")


def test_a_crash_is_a_500_problem_without_the_message(client, db, test_routes, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/test/boom", {"email": PERSONAL})
    body = assert_problem(response, 500, "server.error")
    assert "RuntimeError" not in response.content.decode()
    # The log has the stack and the request id, but not the exception's message.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert body["request_id"] in logged
    assert "RuntimeError" in logged
    assert PERSONAL not in logged


def test_a_refused_host_is_a_problem(db) -> None:  # type: ignore[no-untyped-def]
    response = Client(HTTP_HOST="evil.example").get("/api/v1/health")
    assert_problem(response, 400, "request.bad")


# --- Bad input: 4xx problem, nothing recorded ----------------------------------------------------


def test_a_good_note_is_recorded(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    response = post_note(client, json.dumps({"text": "hello", "count": 2}), writer)
    assert response.status_code == 201
    assert response.json() == {"id": 1, "count": 2}
    assert len(test_routes) == 1


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ('{"text": "x", "count": 1', "request.malformed_json", "not valid JSON"),
        ("", "validation.failed", None),
        ("null", "validation.failed", None),
        ('{"text": "x", "count": NaN}', "request.malformed_json", "NaN"),
        ('{"text": "x", "text": "y", "count": 1}', "request.malformed_json", "twice"),
        ("[" * 100_000 + "]" * 100_000, "request.malformed_json", "nested too deeply"),
    ],
)
def test_malformed_json_is_refused(client, writer, test_routes, body, code, detail) -> None:  # type: ignore[no-untyped-def]
    status = 422 if code == "validation.failed" else 400
    problem = assert_problem(post_note(client, body, writer), status, code)
    if detail:
        assert detail in problem["detail"]
    assert test_routes == []


def test_invalid_utf8_is_refused(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    body = b'{"text": "caf\xe9", "count": 1}'  # Latin-1, not UTF-8
    assert_problem(post_note(client, body, writer), 400, "request.invalid_utf8")
    assert test_routes == []


def test_a_body_that_is_not_json_is_refused(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    response = post_note(client, "text=hello&count=1", writer, content_type="text/plain")
    assert_problem(response, 415, "request.unsupported_media_type")
    assert test_routes == []


def test_wrong_types_name_the_fields_without_echoing_values(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"text": 12, "count": PERSONAL, "tags": "not-a-list"})
    problem = assert_problem(post_note(client, body, writer), 422, "validation.failed")
    fields = {error["field"]: error for error in problem["errors"]}
    assert set(fields) == {"text", "count", "tags"}
    assert fields["count"]["loc"] == ["body", "payload", "count"]
    assert fields["count"]["type"] == "int_type"
    assert all(error["message"] for error in problem["errors"])
    assert test_routes == []


@pytest.mark.parametrize(
    ("count", "kind"),
    [(True, "int_type"), ("5", "int_type"), (5.5, "int_type"), (None, "int_type")],
)
def test_types_are_strict(client, writer, test_routes, count, kind) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"text": "x", "count": count})
    problem = assert_problem(post_note(client, body, writer), 422, "validation.failed")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("count", kind)]
    assert test_routes == []


def test_an_integral_number_is_an_integer_as_json_schema_says(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    response = post_note(client, '{"text": "x", "count": 5.0}', writer)
    assert response.status_code == 201
    assert test_routes[0]["count"] == 5
    too_big = post_note(client, '{"text": "x", "count": 1e400}', writer)
    assert_problem(too_big, 400, "request.malformed_json")


def test_an_unpaired_surrogate_is_refused(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    body = '{"text": "caf\\ud800", "count": 1}'
    problem = assert_problem(post_note(client, body, writer), 400, "request.malformed_json")
    assert "surrogate" in problem["detail"]
    # A proper pair is a character like any other.
    assert post_note(client, '{"text": "\\ud83d\\ude00", "count": 1}', writer).status_code == 201


def test_missing_fields_are_named(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    problem = assert_problem(post_note(client, "{}", writer), 422, "validation.failed")
    assert {error["field"] for error in problem["errors"]} == {"text", "count"}
    assert {error["type"] for error in problem["errors"]} == {"missing"}


def test_unknown_fields_are_refused_by_name(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"text": "x", "count": 1, "emial": PERSONAL})
    problem = assert_problem(post_note(client, body, writer), 422, "validation.failed")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("emial", "extra_forbidden")]
    assert test_routes == []


def test_very_long_strings_are_refused(client, writer, test_routes) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"text": PERSONAL * 1000, "count": 1, "tags": ["x" * 20_000]})
    problem = assert_problem(post_note(client, body, writer), 422, "validation.failed")
    assert {(e["field"], e["type"]) for e in problem["errors"]} == {
        ("text", "string_too_long"),
        ("tags.0", "string_too_long"),
    }
    assert test_routes == []


def test_a_huge_body_is_refused_before_it_is_read(client, writer, test_routes, settings) -> None:  # type: ignore[no-untyped-def]
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 1024 * 1024  # SAFEHOLD_MAX_REQUEST_BYTES's default
    body = json.dumps({"text": "x", "count": 1, "tags": ["y" * (limit + 1)]})
    response = post_note(client, body, writer, HTTP_IDEMPOTENCY_KEY="huge-1")
    assert_problem(response, 413, "request.too_large")
    assert test_routes == []
    assert IdempotencyRecord.objects.count() == 0


def test_an_unauthenticated_write_is_refused_before_the_body_is_read(
    client, db, test_routes
) -> None:  # type: ignore[no-untyped-def]
    response = client.post(NOTES, "{not json", content_type="application/json")
    assert_problem(response, 401, "auth.missing_credentials")

"""GET /api/v1/statement and /api/v1/statement/{number} (scope statement:read)."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_the_current_version_with_every_language_as_markdown_and_safe_html(
    client, make_key, publish, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_OPERATOR_NAME = "Harbour Metals"
    key = make_key("statement:read")
    answer = client.get("/api/v1/statement", **bearer(key.token))
    assert answer.status_code == 200
    body = answer.json()
    assert body["number"] == 1
    assert body["status"] == "current"
    assert body["languages"] == ["en", "zh-hans"]
    english = body["texts"][0]
    assert english["markdown"].startswith("# Privacy statement")
    assert "Harbour Metals runs this website" in english["markdown"]
    assert '<h2 id="cookies">Cookies</h2>' in english["html"]
    assert body["url"].endswith("/privacy/v1/")

    publish({"en": "# S\n\n<script>alert(1)</script>Hello"})
    body = client.get("/api/v1/statement", **bearer(key.token)).json()
    assert body["number"] == 2
    assert "<script>" not in body["texts"][0]["html"]
    old = client.get("/api/v1/statement/1", **bearer(key.token))
    assert old.status_code == 200
    assert old.json()["status"] == "superseded"


def test_errors_are_problem_documents(client, make_key) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/statement").status_code == 401
    wrong = make_key("consent:read")
    denied = client.get("/api/v1/statement", **bearer(wrong.token))
    assert denied.status_code == 403
    assert denied.json()["code"] == "auth.missing_scope"
    key = make_key("statement:read")
    missing = client.get("/api/v1/statement/99", **bearer(key.token))
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    assert client.get("/api/v1/statement/0", **bearer(key.token)).status_code == 422


def test_drafts_are_never_served(client, make_key) -> None:  # type: ignore[no-untyped-def]
    from safehold.policy import services

    draft = services.create_draft(texts={"en": "# Draft"})
    key = make_key("statement:read")
    assert client.get(f"/api/v1/statement/{draft.number}", **bearer(key.token)).status_code == 404

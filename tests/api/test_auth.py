"""Who may call: keys with scopes, revoked and expired keys, site keys, sessions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from safehold.api import services
from safehold.api.models import ApiKey
from safehold.api.scopes import SITE_KEY_SCOPES, Scope
from tests.api.conftest import ALL_SCOPES, bearer


def _problem(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


def test_me_names_the_key_and_its_scopes(client, make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key("keys:read", "consent:read")
    response = client.get("/api/v1/me", **bearer(issued.token))
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "server"
    assert body["name"] == "billing system"
    assert body["scopes"] == ["consent:read", "keys:read"]
    assert body["key_prefix"] == f"sh_live_{issued.api_key.prefix}"
    assert issued.token.startswith(body["key_prefix"] + "_")
    assert body["expires_at"] is None
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_key_without_the_scope_gets_403(client, make_key, test_routes, scope) -> None:  # type: ignore[no-untyped-def]
    others = [s for s in ALL_SCOPES if s != scope]
    without = make_key(*others)
    response = client.get(f"/api/test/scopes/{scope}", **bearer(without.token))
    assert response.status_code == 403
    problem = _problem(response)
    assert problem["code"] == "auth.missing_scope"
    assert scope in problem["detail"]

    with_it = make_key(scope)
    response = client.get(f"/api/test/scopes/{scope}", **bearer(with_it.token))
    assert response.status_code == 200
    assert response.json() == {"scope": scope}


def test_no_key_is_401_with_www_authenticate(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _problem(response)["code"] == "auth.missing_credentials"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer sh_live_0123456789ab_" + "0" * 64,  # well formed, but no such key
    ],
)
def test_a_bad_key_is_401(client, db, header) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _problem(response)["code"] == "auth.invalid_key"


def test_a_key_with_a_wrong_secret_is_401(client, make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key()
    forged = issued.token[:-4] + ("0000" if not issued.token.endswith("0000") else "1111")
    response = client.get("/api/v1/me", **bearer(forged))
    assert response.status_code == 401
    assert _problem(response)["code"] == "auth.invalid_key"


def test_revocation_takes_effect_on_the_next_request(client, make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key()
    assert client.get("/api/v1/me", **bearer(issued.token)).status_code == 200
    services.revoke_api_key(issued.api_key.pk, actor=None)
    response = client.get("/api/v1/me", **bearer(issued.token))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _problem(response)["code"] == "auth.key_revoked"


def test_an_expired_key_is_401(client, make_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    expiry = timezone.now() + timedelta(days=1)
    issued = make_key(expires_at=expiry)
    assert client.get("/api/v1/me", **bearer(issued.token)).json()["expires_at"]
    monkeypatch.setattr(services, "_now", lambda: expiry + timedelta(seconds=1))
    response = client.get("/api/v1/me", **bearer(issued.token))
    assert response.status_code == 401
    assert _problem(response)["code"] == "auth.key_expired"


def test_last_used_is_written_at_most_once_a_minute(client, make_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    issued = make_key()
    start = timezone.now()
    monkeypatch.setattr(services, "_now", lambda: start)
    client.get("/api/v1/me", **bearer(issued.token))
    assert ApiKey.objects.get().last_used_at == start
    monkeypatch.setattr(services, "_now", lambda: start + timedelta(seconds=59))
    client.get("/api/v1/me", **bearer(issued.token))
    assert ApiKey.objects.get().last_used_at == start
    monkeypatch.setattr(services, "_now", lambda: start + timedelta(seconds=61))
    client.get("/api/v1/me", **bearer(issued.token))
    assert ApiKey.objects.get().last_used_at == start + timedelta(seconds=61)


# --- Public site keys ------------------------------------------------------------------------


def test_a_site_key_holds_only_what_the_embed_needs(make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key("consent:read", "consent:write", kind="site")
    assert issued.token.startswith("sh_site_")
    assert services.key_scopes(issued.api_key) == SITE_KEY_SCOPES
    for scope in set(Scope) - SITE_KEY_SCOPES:
        with pytest.raises(services.InvalidKeySettings, match="site key may hold only"):
            make_key("consent:read", scope.value, kind="site")


def test_a_site_key_row_widened_in_the_database_still_grants_only_the_embed_scopes(
    client, make_key, test_routes
) -> None:  # type: ignore[no-untyped-def]
    issued = make_key("consent:read", kind="site")
    ApiKey.objects.filter(pk=issued.api_key.pk).update(scopes=ALL_SCOPES)
    assert client.get("/api/test/scopes/consent:read", **bearer(issued.token)).status_code == 200
    response = client.get("/api/test/scopes/share:request", **bearer(issued.token))
    assert response.status_code == 403


def test_a_token_of_one_kind_does_not_pass_as_the_other(client, make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key("keys:read")
    as_site = issued.token.replace("sh_live_", "sh_site_", 1)
    assert client.get("/api/v1/me", **bearer(as_site)).status_code == 401


# --- The signed-in session -------------------------------------------------------------------


def test_a_signed_in_session_may_read_me(alice_client) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "session"
    assert body["name"] is None  # nothing about the person
    assert "keys:read" in body["scopes"]


def test_a_session_write_needs_the_csrf_token(alice, test_routes) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_PASSWORD

    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="alice", password=TEST_PASSWORD)
    note = json.dumps({"text": "hello", "count": 1})
    refused = browser.post("/api/test/notes", note, content_type="application/json")
    assert refused.status_code == 403
    assert _problem(refused)["code"] == "auth.csrf_failed"
    assert test_routes == []

    browser.get("/api/v1/docs")  # any page that uses the token sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/test/notes", note, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201
    assert test_routes == [{"actor": f"user:{alice.pk}", "count": 1}]


def test_without_a_session_a_write_is_401_not_a_csrf_failure(db, test_routes) -> None:  # type: ignore[no-untyped-def]
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        "/api/test/notes", json.dumps({"text": "x", "count": 1}), content_type="application/json"
    )
    assert response.status_code == 401
    assert _problem(response)["code"] == "auth.missing_credentials"

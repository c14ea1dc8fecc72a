"""The consent API: recording and reading choices with site and server keys, bad input
refused with stable codes and nothing recorded, and the CORS rules of site keys."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.test import Client

from safehold.api import origins
from safehold.api.models import ApiKey
from safehold.audit.models import Event
from safehold.consent.models import ConsentRecord
from tests.api.conftest import bearer
from tests.helpers import run_safehold

pytestmark = pytest.mark.django_db
SITE = "https://www.example.test"
VISITOR = "visitor_0123456789abcdef"
URL = "/api/v1/consent/choices"


@pytest.fixture
def site_key(make_key):  # type: ignore[no-untyped-def]
    issued = make_key("consent:read", "consent:write", kind="site", name="www")
    origins.set_allowed_origins(issued.api_key.pk, [SITE], actor=_system())
    return issued


def _system():  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor

    return Actor.system()


def post(client: Client, token: str, body: object, **extra: str):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **bearer(token), **extra)


def recorded() -> int:
    return ConsentRecord.objects.count()


def test_site_key_records_a_choice_from_its_origin(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    response = post(
        client,
        site_key.token,
        {"visitor_id": VISITOR, "choices": {"analytics": True}, "method": "banner"},
        HTTP_ORIGIN=SITE,
        REMOTE_ADDR="203.0.113.5",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["choices"] == {
        "necessary": True,
        "preferences": False,
        "analytics": True,
        "marketing": False,
    }
    assert body["allowed"] == ["analytics", "necessary"]
    assert body["needs_renewal"] is False
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Credentials" not in response
    record = ConsentRecord.objects.get()
    assert record.site == site_key.api_key
    assert record.method == "banner"
    assert record.ip_network == "203.0.113.0/24"
    event = Event.objects.get(event_type="consent:recorded")
    assert b"api-key" in bytes(event.data)  # the key is the actor


def test_read_the_current_choice(client: Client, site_key, make_key) -> None:  # type: ignore[no-untyped-def]
    post(client, site_key.token, {"visitor_id": VISITOR, "choices": {"analytics": True}})
    post(client, site_key.token, {"visitor_id": VISITOR, "choices": {"analytics": False}})
    server = make_key("consent:read")
    response = client.get(f"/api/v1/consent/visitors/{VISITOR}", **bearer(server.token))
    assert response.status_code == 200
    assert response.json()["choices"]["analytics"] is False
    assert response.json()["method"] == "api"
    missing = client.get("/api/v1/consent/visitors/nobody_0123456789abc", **bearer(server.token))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_reading_a_joined_choice_is_on_the_persons_access_log(
    client: Client, alice, make_key
) -> None:  # type: ignore[no-untyped-def]
    from safehold.audit.services import Actor, events_about
    from safehold.consent import services

    services.record_choice(
        visitor_id=VISITOR,
        choices={"analytics": True},
        method="settings",
        actor=Actor.system(),
        user=alice,
    )
    server = make_key("consent:read")
    assert (
        client.get(f"/api/v1/consent/visitors/{VISITOR}", **bearer(server.token)).status_code == 200
    )
    assert "api:personal-data:read" in {e.event_type for e in events_about(alice.pk)}


def test_server_key_passes_the_visitor_ip_truncated(client: Client, make_key) -> None:  # type: ignore[no-untyped-def]
    server = make_key("consent:write")
    response = post(
        client,
        server.token,
        {"visitor_id": VISITOR, "choices": {}, "visitor_ip": "2001:db8:1:2::9"},
    )
    assert response.status_code == 201
    assert ConsentRecord.objects.get().ip_network == "2001:db8:1::/48"


def test_config_for_the_banner(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/consent/config?lang=zh-hans", **bearer(site_key.token))
    assert response.status_code == 200
    body = response.json()
    assert [c["slug"] for c in body["categories"]] == [
        "necessary",
        "preferences",
        "analytics",
        "marketing",
    ]
    assert body["categories"][1]["name"] == "偏好设置"
    assert body["texts"]["accept"] != "Accept all"  # translated
    assert body["renew_days"] == 365


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"visitor_id": VISITOR, "choices": {"tracking": True}}, 422, "validation.failed"),
        ({"visitor_id": "short", "choices": {}}, 422, "validation.failed"),
        ({"visitor_id": VISITOR, "choices": {"analytics": "yes"}}, 422, "validation.failed"),
        ({"visitor_id": VISITOR, "choices": {}, "colour": "red"}, 422, "validation.failed"),
        ({"visitor_id": VISITOR, "choices": {}, "method": "telepathy"}, 422, "validation.failed"),
        ('{"visitor_id": "' + VISITOR + '", "choices": {', 400, "request.malformed_json"),
        ("[1, 2", 400, "request.malformed_json"),
        (b"\xff\xfe", 400, "request.invalid_utf8"),
    ],
)
def test_bad_input_is_refused_and_nothing_recorded(
    client: Client, site_key, body, status, code
) -> None:  # type: ignore[no-untyped-def]
    response = post(client, site_key.token, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert recorded() == 0
    assert not Event.objects.filter(event_type="consent:recorded").exists()


def test_unknown_category_is_named(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    response = post(client, site_key.token, {"visitor_id": VISITOR, "choices": {"tracking": True}})
    errors = response.json()["errors"]
    assert errors[0]["field"] == "choices.tracking"
    assert errors[0]["type"] == "unknown_category"


def test_unknown_site_key(client: Client, db) -> None:  # type: ignore[no-untyped-def]
    fake = "sh_site_" + "0" * 12 + "_" + "a" * 64
    response = post(client, fake, {"visitor_id": VISITOR, "choices": {}})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_key"
    response = client.post(
        URL, json.dumps({"visitor_id": VISITOR, "choices": {}}), content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "auth.missing_credentials"
    assert recorded() == 0


def test_revoked_site_key(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    from safehold.api.services import revoke_api_key

    revoke_api_key(site_key.api_key.pk, actor=None)
    response = post(client, site_key.token, {"visitor_id": VISITOR, "choices": {}})
    assert response.json()["code"] == "auth.key_revoked"
    assert recorded() == 0


def test_oversized_body(client: Client, site_key, settings) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"visitor_id": VISITOR, "choices": {}, "language": "x" * 17_000})
    response = post(client, site_key.token, body)
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"
    assert recorded() == 0


def test_idempotent_retry_records_once(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    key = str(uuid.uuid4())
    body = {"visitor_id": VISITOR, "choices": {"marketing": True}}
    first = post(client, site_key.token, body, HTTP_IDEMPOTENCY_KEY=key)
    again = post(client, site_key.token, body, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert recorded() == 1


def test_site_key_is_refused_from_another_origin(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    response = post(
        client,
        site_key.token,
        {"visitor_id": VISITOR, "choices": {}},
        HTTP_ORIGIN="https://copycat.example",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in response
    assert recorded() == 0


def test_cors_preflight(client: Client, site_key) -> None:  # type: ignore[no-untyped-def]
    headers = {
        "HTTP_ORIGIN": SITE,
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
    }
    response = client.options(URL, **headers)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Origin" in response["Vary"]
    headers["HTTP_ORIGIN"] = "https://copycat.example"
    refused = client.options(URL, **headers)
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    # Other parts of the API are not open to browsers on other sites.
    headers["HTTP_ORIGIN"] = SITE
    other = client.options("/api/v1/me", **headers)
    assert "Access-Control-Allow-Origin" not in other


def test_origins_are_normalised_and_validated(site_key) -> None:  # type: ignore[no-untyped-def]
    from safehold.api.exceptions import InvalidKeySettings

    assert origins.normalize_origin("HTTPS://WWW.Example.test:443/") == "https://www.example.test"
    assert origins.normalize_origin("http://localhost:8001") == "http://localhost:8001"
    for bad in ("ftp://x.test", "https://x.test/path", "x.test", "https://"):
        with pytest.raises(InvalidKeySettings):
            origins.parse_origins([bad])
    server = ApiKey.objects.create(name="s", prefix="abcabcabcabc", key_hash="0" * 64)
    with pytest.raises(InvalidKeySettings):
        origins.set_allowed_origins(server.pk, [SITE], actor=_system())


def test_apikey_command_origins(tmp_path: Path) -> None:
    result = run_safehold(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    created = run_safehold(
        tmp_path,
        "apikey", "create", "--name", "www", "--kind", "site",
        "--scopes", "consent:read,consent:write", "--origins", "https://www.example.test/,http://localhost:8001",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Allowed origins: https://www.example.test, http://localhost:8001." in created.stdout
    changed = run_safehold(tmp_path, "apikey", "origins", "1", "https://shop.example.test")
    assert changed.returncode == 0, changed.stderr
    assert "https://shop.example.test" in changed.stdout
    bad = run_safehold(tmp_path, "apikey", "origins", "1", "not-an-origin")
    assert bad.returncode != 0
    assert "not an origin" in bad.stderr
    assert "Traceback" not in bad.stderr
    server = run_safehold(
        tmp_path,
        "apikey",
        "create",
        "--name",
        "s",
        "--scopes",
        "consent:read",
        "--origins",
        "https://a.test",
    )
    assert server.returncode != 0
    assert "site keys" in server.stderr


def test_admin_creates_a_site_key_with_origins(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/api/apikey/add/",
        {
            "name": "www embed",
            "kind": "site",
            "scopes": ["consent:read", "consent:write"],
            "allowed_origins": "https://www.example.test\nhttp://localhost:8001/",
        },
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="www embed")
    assert key.allowed_origins == ["https://www.example.test", "http://localhost:8001"]
    assert Event.objects.filter(event_type="consent:site:origins-changed").exists()
    bad = admin_client.post(
        "/admin/api/apikey/add/",
        {"name": "x", "kind": "site", "scopes": ["consent:read"], "allowed_origins": "nope"},
    )
    assert b"is not an origin" in bad.content
    server = admin_client.post(
        "/admin/api/apikey/add/",
        {"name": "y", "kind": "server", "scopes": ["consent:read"], "allowed_origins": SITE},
    )
    assert b"only a public site key has allowed origins" in server.content
    assert not ApiKey.objects.filter(name__in=["x", "y"]).exists()


def test_retention_purges_old_records(db) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from safehold.audit.services import Actor
    from safehold.consent import services
    from safehold.jobs.retention import rules

    for _ in range(3):
        services.record_choice(visitor_id=VISITOR, choices={}, method="api", actor=Actor.system())
    ConsentRecord.objects.filter(
        pk__in=ConsentRecord.objects.order_by("id").values("id")[:2]
    ).update(created_at=timezone.now() - timedelta(days=2000))
    rule = next(r for r in rules() if r.name == "consent-records")
    assert rule.days == 3 * 365
    assert rule.purge(timezone.now() - timedelta(days=rule.days)) == 2
    assert rule.purge(timezone.now() - timedelta(days=rule.days)) == 0
    assert ConsentRecord.objects.count() == 1

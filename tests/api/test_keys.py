"""Keys: the database holds a hash, never the key; staff create and revoke them in the admin."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from safehold.api import services
from safehold.api.models import ApiKey
from tests.api.conftest import bearer


def _all_stored_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apikey")
        return repr(cursor.fetchall())


def test_the_database_holds_the_hash_never_the_key(make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key()
    assert re.fullmatch(r"sh_live_[0-9a-f]{12}_[0-9a-f]{64}", issued.token)
    secret = issued.token.rsplit("_", 1)[1]
    stored = _all_stored_text()
    assert issued.token not in stored
    assert secret not in stored
    row = ApiKey.objects.get()
    assert row.key_hash == services.hash_token(issued.token)
    assert row.prefix in issued.token


def test_every_key_is_different(make_key) -> None:  # type: ignore[no-untyped-def]
    tokens = {make_key().token for _ in range(20)}
    assert len(tokens) == 20
    assert len({token.split("_")[2] for token in tokens}) == 20


@pytest.fixture
def staff_client(client, make_user):  # type: ignore[no-untyped-def]
    admin = make_user("operator", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_staff_create_a_key_in_the_admin_and_see_it_once(staff_client) -> None:  # type: ignore[no-untyped-def]
    assert staff_client.get("/admin/api/apikey/add/").status_code == 200
    response = staff_client.post(
        "/admin/api/apikey/add/",
        {"name": "ERP", "kind": "server", "scopes": ["keys:read", "consent:read"]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    token = re.search(r'value="(sh_live_[0-9a-f_]+)"', page).group(1)  # type: ignore[union-attr]
    assert "not shown again" in page
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert key.created_by is not None
    assert key.created_by.username == "operator"
    assert token not in _all_stored_text()
    # The key works, and is never shown again.
    assert staff_client.get("/api/v1/me", **bearer(token)).json()["name"] == "ERP"
    for url in ("/admin/api/apikey/", f"/admin/api/apikey/{key.pk}/change/"):
        later = staff_client.get(url)
        assert later.status_code == 200
        assert token.rsplit("_", 1)[1] not in later.content.decode()
        assert key.display_prefix in later.content.decode()


def test_the_admin_refuses_a_site_key_with_server_scopes(staff_client) -> None:  # type: ignore[no-untyped-def]
    response = staff_client.post(
        "/admin/api/apikey/add/", {"name": "www", "kind": "site", "scopes": ["export:request"]}
    )
    assert response.status_code == 200
    assert "site key may hold only" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_staff_revoke_keys_in_the_admin(staff_client, make_key) -> None:  # type: ignore[no-untyped-def]
    issued = make_key()
    response = staff_client.post(
        "/admin/api/apikey/",
        {"action": "revoke_selected", "_selected_action": [issued.api_key.pk]},
    )
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert staff_client.get("/api/v1/me", **bearer(issued.token)).status_code == 401
    # Keys are not deleted: what a key did stays attributable to it.
    assert staff_client.get(f"/admin/api/apikey/{issued.api_key.pk}/delete/").status_code == 403


def test_staff_without_the_permission_cannot_create_keys(client, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user("helper", is_staff=True))
    assert client.get("/admin/api/apikey/add/").status_code == 403

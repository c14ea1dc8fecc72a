"""/api/v1/audit/: the signed checkpoint and proofs a client can check on its own."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from safehold.audit import merkle, services, signing
from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import Actor, record_event
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit_key(make_key) -> str:  # type: ignore[no-untyped-def]
    return str(make_key("audit:read").token)


@pytest.fixture
def logged() -> None:
    for i in range(21):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})
    services.make_checkpoint()


def test_checkpoint_proof_and_consistency_verify_client_side(
    client: Client, audit_key: str, logged
) -> None:  # type: ignore[no-untyped-def]
    cp = client.get("/api/v1/audit/checkpoint", **bearer(audit_key)).json()
    size, root = cp["tree_size"], base64.b64decode(cp["root_hash"])
    published = signing.parse_checkpoint(cp["text"])
    public = signing.load_public_key(cp["public_key"])
    assert signing.verify_signature(published.body, published.signature, public)
    assert (published.size, published.root) == (size, root)

    seq = size - 5
    proof = client.get(f"/api/v1/audit/events/{seq}/proof", **bearer(audit_key)).json()
    leaf = merkle.leaf_hash(base64.b64decode(proof["leaf_data"]))
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
    assert proof["tree_size"] == size
    assert merkle.verify_inclusion(
        leaf, seq, size, [base64.b64decode(h) for h in proof["proof"]], root
    )

    old = 3
    consistency = client.get(
        "/api/v1/audit/consistency", {"old_size": old}, **bearer(audit_key)
    ).json()
    assert consistency["new_size"] == size
    assert merkle.verify_consistency(
        old,
        size,
        base64.b64decode(consistency["old_root"]),
        root,
        [base64.b64decode(h) for h in consistency["proof"]],
    )


def test_audit_routes_need_the_scope(client: Client, make_key, logged) -> None:  # type: ignore[no-untyped-def]
    other = make_key("keys:read").token
    response = client.get("/api/v1/audit/checkpoint", **bearer(other))
    assert response.status_code == 403
    assert response.json()["code"] == "auth.missing_scope"
    assert client.get("/api/v1/audit/checkpoint").status_code == 401


def test_events_beyond_the_checkpoint_or_bad_sizes_are_problems(
    client: Client, audit_key: str, logged
) -> None:  # type: ignore[no-untyped-def]
    size = Event.objects.count()
    response = client.get(f"/api/v1/audit/events/{size + 10}/proof", **bearer(audit_key))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    bad = client.get("/api/v1/audit/consistency", {"old_size": 0}, **bearer(audit_key))
    assert bad.status_code == 404
    assert (
        client.get("/api/v1/audit/consistency", {"old_size": "x"}, **bearer(audit_key)).status_code
        == 422
    )


def test_key_creation_and_revocation_are_audited(make_key) -> None:  # type: ignore[no-untyped-def]
    from safehold.api.services import revoke_api_key

    issued = make_key("keys:read")
    revoke_api_key(issued.api_key.pk, actor=None)
    types = list(Event.objects.order_by("seq").values_list("event_type", flat=True))
    assert types[-2:] == ["api:key:created", "api:key:revoked"]
    data = b"".join(bytes(d) for d in Event.objects.values_list("data", flat=True))
    assert issued.token.encode() not in data

"""The audit log: what is recorded, that it commits with its change, and that it is append-only."""

from __future__ import annotations

import pyotp
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from safehold.accounts.models import User
from safehold.audit import merkle, services
from safehold.audit.events import EventType
from safehold.audit.models import Checkpoint, Event
from safehold.audit.services import Actor, EventRecord, record_event
from safehold.audit.verify import verify_log
from safehold.vault import keys
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _types(user: User | None = None) -> list[str]:
    query = Event.objects.order_by("seq")
    if user is not None:
        query = query.filter(subject_id=str(user.pk))
    return list(query.values_list("event_type", flat=True))


def test_account_life_is_recorded(client: Client, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    import re

    client.post(
        "/accounts/signup/",
        {
            "username": "olga",
            "email": "olga@example.test",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
        },
    )
    user = User.objects.get(username="olga")
    link = re.search(
        r"http://testserver(/accounts/confirm-email/\S+)", smtp_sink.body(smtp_sink.messages[0])
    )
    client.post(link.group(1))  # type: ignore[union-attr]
    client.post("/accounts/login/", {"login": "olga", "password": "wrong-password-here"})
    client.post("/accounts/login/", {"login": "olga", "password": TEST_PASSWORD})
    client.post(
        "/account/profile/", {"name": "Olga K", "mailing_address": "", "phone": "+8613800138000"}
    )
    client.post(
        "/account/password-hint/", {"hint": "winter sea", "current_password": TEST_PASSWORD}
    )
    client.post(
        "/accounts/password/change/",
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "Another-long-phrase-42",
            "password2": "Another-long-phrase-42",
        },
    )
    client.post("/accounts/logout/")
    assert _types(user) == [
        "account:signed-up",
        "account:email:verified",
        "account:sign-in:failed",
        "account:sign-in:succeeded",
        "account:profile:updated",
        "account:password-hint:changed",
        "account:password:changed",
        "account:signed-out",
    ]
    profile = EventRecord.from_bytes(
        bytes(Event.objects.get(event_type="account:profile:updated").data)
    )
    assert profile.detail_dict == {"fields": ["name", "phone"]}
    assert profile.actor_kind == "person"
    assert profile.actor_id == str(user.pk)


def test_events_hold_no_personal_data_in_plain_text(alice_client: Client, alice: User) -> None:
    alice_client.post(
        "/account/profile/",
        {"name": "Alice Wonder", "mailing_address": "1 Rabbit Hole", "phone": "+8613800138000"},
    )
    blob = b"".join(bytes(d) for d in Event.objects.values_list("data", flat=True))
    assert blob
    for secret in (
        b"Alice Wonder",
        b"Rabbit",
        b"8613800138000",
        b"alice@example.test",
        b"127.0.0.1",
        b"alice\t",
    ):
        assert secret not in blob
    # The client IP is there, sealed under the person's key.
    record = EventRecord.from_bytes(
        bytes(Event.objects.get(event_type="account:profile:updated").data)
    )
    assert services.open_sealed(record) == {"ip": "127.0.0.1"}
    keys.shred_data_key(alice.data_key)
    assert services.open_sealed(record) is None  # erased with the person...
    assert verify_log().ok  # ...and the log still verifies


def test_mfa_and_sessions_are_recorded(
    alice_client: Client, alice: User, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    import re

    other = Client()  # a second browser, signed in before the second factor is on
    other.post("/accounts/login/", {"login": "alice", "password": TEST_PASSWORD})
    page = alice_client.get("/accounts/2fa/totp/activate/", follow=True)
    if "reauthenticate" in page.request["PATH_INFO"]:
        page = alice_client.post(
            page.request["PATH_INFO"] + "?next=/accounts/2fa/totp/activate/",
            {"password": TEST_PASSWORD},
            follow=True,
        )
    secret = re.search(r'value="([A-Z2-7]{16,})"', page.content.decode()).group(1)  # type: ignore[union-attr]
    # allauth sends its MFA signals on commit; the test's transaction never commits.
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    alice_client.post("/account/sessions/sign-out/", {})
    types = _types(alice)
    assert "mfa:authenticator:added" in types
    assert types[-1] == "account:sessions:signed-out"
    last = EventRecord.from_bytes(bytes(Event.objects.filter(subject_id=str(alice.pk)).last().data))  # type: ignore[union-attr]
    assert last.detail_dict == {"count": 1, "reason": "requested"}


def test_vault_operations_are_recorded(alice: User) -> None:
    keys.rotate()
    keys.shred_data_key(alice.data_key)
    rotated, shredded = _types()[-2:]
    assert (rotated, shredded) == ("vault:keys:rotated", "vault:key:shredded")


def test_an_event_commits_with_its_change_or_not_at_all(
    alice_client: Client, alice: User, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    before = Event.objects.count()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(services, "_append", broken)
    alice_client.raise_request_exception = False
    response = alice_client.post(
        "/account/profile/", {"name": "Never Saved", "mailing_address": "", "phone": ""}
    )
    assert response.status_code == 500
    keys.forget_cached_keys()
    assert User.objects.get(pk=alice.pk).name == ""  # the change was rolled back with it
    assert Event.objects.count() == before


def test_the_tables_are_append_only_in_the_database(alice: User) -> None:
    for _ in range(16):  # enough for a stored node
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    services.make_checkpoint()
    for statement in (
        "UPDATE audit_event SET event_type = 'x'",
        "DELETE FROM audit_event",
        "UPDATE audit_checkpoint SET tree_size = 0",
        "DELETE FROM audit_node",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.all().delete()
    assert Event.objects.count() >= 1


def test_sequence_numbers_are_consecutive_and_proofs_verify(alice: User) -> None:
    for i in range(37):
        record_event(
            EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice, detail={"i": i}
        )
    cp = services.make_checkpoint()
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(len(seqs)))
    assert cp.tree_size == len(seqs)
    for seq in (0, 5, 16, 17, len(seqs) - 1):
        leaf = bytes(Event.objects.get(seq=seq).leaf_hash)
        proof = services.inclusion_proof(seq, cp.tree_size)
        assert merkle.verify_inclusion(leaf, seq, cp.tree_size, proof, bytes(cp.root_hash))
    first = Checkpoint.objects.order_by("id").first()
    assert first is not None
    old_root, new_root = bytes(first.root_hash), bytes(cp.root_hash)
    proof = services.consistency_proof(first.tree_size, cp.tree_size)
    if first.tree_size:
        assert merkle.verify_consistency(first.tree_size, cp.tree_size, old_root, new_root, proof)
    assert verify_log().ok


def test_checkpoints_are_made_at_least_every_minute(alice: User, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    count = Checkpoint.objects.count()
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    assert Checkpoint.objects.count() == count  # not one per event
    later = services._now() + timedelta(seconds=61)
    monkeypatch.setattr(services, "_now", lambda: later)
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    assert Checkpoint.objects.count() == count + 1
    assert Checkpoint.objects.latest().tree_size == Event.objects.count()


def test_renaming_the_operator_does_not_break_old_checkpoints(alice: User, settings) -> None:  # type: ignore[no-untyped-def]
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    services.make_checkpoint()
    settings.SAFEHOLD_OPERATOR_NAME = "SMM Holdings"
    record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), subject=alice)
    services.make_checkpoint()
    assert verify_log().ok
    origins = list(Checkpoint.objects.order_by("id").values_list("origin", flat=True))
    assert origins[-1] == "safehold audit log SMM Holdings"
    assert origins[-2] == "safehold audit log SMM"


def test_every_audit_table_has_its_triggers_after_migrating() -> None:
    """Altering an audit table rebuilds it on SQLite; migrate puts the triggers back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
            )
        tables = {row[0] for row in cursor.fetchall()}
    assert {"audit_event", "audit_node", "audit_checkpoint"} <= tables

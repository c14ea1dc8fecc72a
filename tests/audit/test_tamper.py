"""An attacker with database access drops the triggers and edits the log by raw SQL;
`audit verify` catches each edit and names the place."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from safehold.audit import services, signing, triggers
from safehold.audit.events import EventType
from safehold.audit.models import Event
from safehold.audit.services import Actor, record_event
from safehold.audit.verify import verify_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def log() -> signing.PublishedCheckpoint:
    """40 events with checkpoints at 20 and 40; returns the last one, as published."""
    for i in range(20):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})
    services.make_checkpoint()
    for i in range(20, 40):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})
    published = services.published(services.make_checkpoint())
    assert verify_log().ok
    triggers.remove(connection)  # what an attacker does first
    return published


def sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def row(seq: int) -> tuple[bytes, bytes]:
    event = Event.objects.get(seq=seq)
    return bytes(event.data), bytes(event.leaf_hash)


def problems() -> list[str]:
    report = verify_log()
    assert not report.ok
    return report.problems


def test_an_edited_event_is_named(log) -> None:  # type: ignore[no-untyped-def]
    data, _ = row(7)
    sql("UPDATE audit_event SET data = %s WHERE seq = 7", [data.replace(b'"i":7', b'"i":8')])
    assert problems()[0].startswith("event 7 was altered")


def test_an_edit_with_its_hash_recomputed_breaks_the_signed_root(log) -> None:  # type: ignore[no-untyped-def]
    data, _ = row(7)
    forged = data.replace(b'"i":7', b'"i":8')
    sql(
        "UPDATE audit_event SET data = %s, leaf_hash = %s WHERE seq = 7",
        [forged, hashlib.sha256(b"\x00" + forged).digest()],
    )
    found = problems()
    assert any(
        "the first 20 events do not match checkpoint" in p and "up to event 19" in p for p in found
    )
    assert any("the first 40 events do not match" in p for p in found)


def test_a_deleted_event_is_named(log) -> None:  # type: ignore[no-untyped-def]
    sql("DELETE FROM audit_event WHERE seq = 12")
    assert problems()[0] == "event 12 is missing (the sequence jumps from 11 to 13)"


def test_an_inserted_event_is_caught(log) -> None:  # type: ignore[no-untyped-def]
    for seq in range(39, 9, -1):  # make room at 10, as an attacker would
        sql("UPDATE audit_event SET seq = seq + 1 WHERE seq = %s", [seq])
    data, _ = row(9)
    forged = data.replace(b"\t9\t", b"\t10\t", 1)
    sql(
        "INSERT INTO audit_event (seq, occurred_at, event_type, subject_id, data, leaf_hash) "
        "VALUES (10, '2026-01-01T00:00:00+00:00', 'account:profile:updated', '', %s, %s)",
        [forged, hashlib.sha256(b"\x00" + forged).digest()],
    )
    found = problems()
    assert found[0].startswith("event 11")
    assert any("the first 20 events do not match" in p for p in found)


def test_two_swapped_events_are_caught(log) -> None:  # type: ignore[no-untyped-def]
    three, four = row(3), row(4)
    sql("UPDATE audit_event SET data = %s, leaf_hash = %s WHERE seq = 3", list(four))
    sql("UPDATE audit_event SET data = %s, leaf_hash = %s WHERE seq = 4", list(three))
    assert problems()[0] == "event 3: its look-up columns disagree with its content"


def test_a_truncated_tail_is_caught(log) -> None:  # type: ignore[no-untyped-def]
    sql("DELETE FROM audit_event WHERE seq >= 30")
    found = problems()
    assert any(
        "the log ends after 30 events but checkpoint" in p and "covers 40" in p for p in found
    )


def test_a_consistent_forgery_signed_by_another_key_is_caught(log, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for table in ("audit_event", "audit_node", "audit_checkpoint"):
        sql(f"DELETE FROM {table}")  # noqa: S608  # fixed names
    forger = Ed25519PrivateKey.generate()
    monkeypatch.setattr(signing, "signing_key", lambda: forger)
    for i in range(40):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i + 1000})
    services.make_checkpoint()
    monkeypatch.undo()
    found = problems()
    assert all("is not signed by this installation's audit key" in p for p in found)


def test_history_rewritten_and_resigned_with_the_real_key_is_caught_by_a_published_checkpoint(
    log,
) -> None:  # type: ignore[no-untyped-def]
    """An attacker with the data directory can re-sign; a published checkpoint still catches it."""
    for table in ("audit_event", "audit_node", "audit_checkpoint"):
        sql(f"DELETE FROM {table}")  # noqa: S608  # fixed names
    for i in range(40):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i + 1000})
    services.make_checkpoint()
    assert verify_log().ok  # consistent, and signed with the installation's key...
    report = verify_log(against=log)  # ...but not the history that was published
    assert not report.ok
    assert "the first 40 events do not match the published checkpoint" in report.problems[0]


def test_an_intact_log_verifies_against_its_published_checkpoint(log) -> None:  # type: ignore[no-untyped-def]
    text = log.text()
    assert verify_log(against=signing.parse_checkpoint(text)).ok
    with pytest.raises(signing.CheckpointFormatError):
        signing.parse_checkpoint("not a checkpoint")
    bad: Callable[[str], str] = lambda t: t.replace(t.split("\n")[1], "41", 1)  # noqa: E731
    assert not verify_log(against=signing.parse_checkpoint(bad(text))).ok


def test_events_removed_after_the_last_checkpoint_are_caught_by_the_stored_nodes(log) -> None:  # type: ignore[no-untyped-def]
    """Events not signed yet are still covered by the tree nodes stored as they were
    appended (one per 16 events and up): removing them leaves nodes that reach past the
    end. (The last few events after a checkpoint, below a stored node, are covered only
    by the next checkpoint, at most a minute later.)"""
    triggers.install(connection)
    for i in range(30):
        record_event(EventType.PII_REVEALED, actor=Actor.system(), detail={"field": "name", "i": i})
    report = verify_log()
    assert report.ok
    assert report.unsigned == 30
    triggers.remove(connection)
    sql("DELETE FROM audit_event WHERE seq >= 50")
    found = problems()
    assert "the log holds 50 events but its stored tree nodes cover 64" in found[0]

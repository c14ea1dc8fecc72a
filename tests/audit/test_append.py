"""The append path's guess of the log's end, and verification in several processes.

Each connection remembers the end it last wrote (size, right edge, last leaf hash); an
append computes from that and its first event goes in only if the stored event before
it has that leaf hash and its own seq is free. These tests make the remembered end wrong
in each way it can be in production (a rolled-back transaction, another server's
appends, a restored database, another last event) and check that the log stays one
consecutive, verifiable tree.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from safehold.audit import merkle, services, triggers, verify
from safehold.audit.events import ActorKind, EventType, Purpose
from safehold.audit.models import Checkpoint, Event, Node
from safehold.audit.services import Actor, EventRecord, record_event
from safehold.audit.verify import verify_log


def _append(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        record_event(EventType.PROFILE_UPDATED, actor=Actor.system(), detail={"i": i})


def _append_as_another_server(n: int, start: int) -> None:
    """Append ``n`` events, then make this connection forget them: as if another server
    had appended them while this one kept its older idea of the log's end."""
    stale = connection._safehold_audit_tail  # type: ignore[attr-defined]  # the cache under test
    _append(n, start=start)
    connection._safehold_audit_tail = stale  # type: ignore[attr-defined]  # the cache under test


def _assert_one_consecutive_log(expected: int) -> None:
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(expected))
    assert services.log_size() == expected
    services.make_checkpoint()
    report = verify_log()
    assert report.ok, report.problems


@pytest.mark.django_db
def test_an_append_after_a_rolled_back_one_continues_the_log() -> None:
    _append(3)

    class Boom(Exception):
        pass

    def append_then_fail() -> None:
        with transaction.atomic():
            _append(2, start=3)
            raise Boom

    with pytest.raises(Boom):
        append_then_fail()
    _append(2, start=3)
    _assert_one_consecutive_log(5)


@pytest.mark.django_db
def test_a_stale_remembered_end_is_detected_and_re_read() -> None:
    _append(4)
    _append_as_another_server(3, start=4)
    _append(2, start=7)  # seq 4 is taken: nothing written, the end read again
    _assert_one_consecutive_log(9)


@pytest.mark.django_db
@pytest.mark.parametrize("catch_up_max", [4096, 2])
def test_a_connection_far_behind_reads_the_stored_edge_instead_of_catching_up(
    monkeypatch: pytest.MonkeyPatch, catch_up_max: int
) -> None:
    """Behind by at most ``_CATCH_UP_MAX`` events, the connection adds the others' leaf
    hashes to the end it knew; further behind, it reads the right edge from the nodes."""
    monkeypatch.setattr(services, "_CATCH_UP_MAX", catch_up_max)
    _append(17)
    _append_as_another_server(20, start=17)
    _append(12, start=37)  # completes the node over events 32-47, half of them caught up on
    _assert_one_consecutive_log(49)


@pytest.mark.django_db
def test_while_others_append_the_end_is_read_first_and_then_trusted_again() -> None:
    _append(4)
    _append_as_another_server(3, start=4)
    _append(1, start=7)  # the guess misses: contended
    assert connection._safehold_audit_contended  # type: ignore[attr-defined]  # under test
    _append_as_another_server(2, start=8)  # another server again
    _append(1, start=10)  # read first (no miss), and the end had moved: still contended
    assert connection._safehold_audit_contended  # type: ignore[attr-defined]  # under test
    _append(1, start=11)  # read first: nobody else appended meanwhile
    assert not connection._safehold_audit_contended  # type: ignore[attr-defined]  # under test
    _append(1, start=12)  # optimistic again
    _assert_one_consecutive_log(13)


@pytest.mark.django_db
def test_a_remembered_end_of_the_right_size_but_another_last_event_does_not_match() -> None:
    _append(4)
    cached = connection._safehold_audit_tail  # type: ignore[attr-defined]  # the cache under test
    forged = cached._replace(last_leaf=hashlib.sha256(b"another event").digest())
    connection._safehold_audit_tail = forged  # type: ignore[attr-defined]  # the cache under test
    _append(2, start=4)
    _assert_one_consecutive_log(6)


@pytest.mark.django_db
def test_a_log_that_lost_its_end_is_continued_from_where_it_ends() -> None:
    """A database restored from an earlier backup while the server ran: the connection
    remembers an end the log no longer has, and must not leave a gap after the real one."""
    _append(20)
    triggers.remove(connection)
    with connection.cursor() as cursor:  # what the backup did not hold yet
        cursor.execute("DELETE FROM audit_event WHERE seq >= 10")
        cursor.execute(
            'DELETE FROM audit_node WHERE ("index" + 1) * (1 << level) > 10'
            if connection.vendor == "postgresql"
            else 'DELETE FROM audit_node WHERE ("index" + 1) << level > 10'
        )
        cursor.execute("DELETE FROM audit_checkpoint")
    triggers.install(connection)
    _append(3, start=10)
    _assert_one_consecutive_log(13)


@pytest.mark.django_db
def test_a_flushed_log_starts_again_from_nothing() -> None:
    _append(3)
    triggers.remove(connection)
    Event.objects.all().delete()
    Checkpoint.objects.all().delete()
    triggers.install(connection)
    _append(2)
    _assert_one_consecutive_log(2)


@pytest.mark.django_db
def test_appending_no_events_writes_nothing() -> None:
    _append(2)
    assert services.record_events([]) == []
    _append(1, start=2)
    _assert_one_consecutive_log(3)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [15, 16, 17, 40, 9000])
def test_one_append_of_many_events_is_one_consecutive_log(count: int) -> None:
    """Groups from 16 events go in by COPY on PostgreSQL; 9,000 complete over 1,000 nodes."""
    _append(5)
    services.record_events(
        [(EventType.PROFILE_UPDATED, Actor.system(), None, {"i": i}) for i in range(count)]
    )
    _append(1, start=5 + count)
    _assert_one_consecutive_log(count + 6)
    size = count + 6
    for seq in (0, 5, size // 2, size - 1):
        proof = services.inclusion_proof(seq, size)
        leaf = bytes(Event.objects.get(seq=seq).leaf_hash)
        root = services.root_at(size)
        assert merkle.verify_inclusion(leaf, seq, size, proof, root)


@pytest.mark.django_db
def test_the_stored_bytes_leaves_and_nodes_are_those_of_the_returned_records(alice: Any) -> None:
    """The append builds an event's bytes in one loop of its own: they must be the
    record's canonical bytes, its leaf their hash, and the stored nodes the tree's."""
    staff = Actor(ActorKind.STAFF, "7", "203.0.113.9", "req-1")
    _append(3)
    records = [
        record_event(
            EventType.PII_REVEALED,
            actor=staff,
            subject=alice,
            purpose=Purpose.SUPPORT,
            note="ticket 12",
            detail={"field": "phone"},
        ),
        *services.record_events(
            [(EventType.PROFILE_UPDATED, Actor.system(), alice, {"i": i}) for i in range(40)]
        ),
    ]
    stored = {e.seq: e for e in Event.objects.filter(seq__gte=3)}
    assert sorted(stored) == [r.seq for r in records] == list(range(3, 44))
    for record in records:
        event = stored[record.seq]
        assert bytes(event.data) == record.to_bytes()
        assert bytes(event.leaf_hash) == merkle.leaf_hash(record.to_bytes())
        assert EventRecord.from_bytes(bytes(event.data)) == record
        assert (event.event_type, event.subject_id) == (record.event_type, str(alice.pk))
    assert services.open_sealed(records[0]) == {"ip": "203.0.113.9", "note": "ticket 12"}
    leaves = [bytes(h) for h in Event.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    expected = merkle.MemoryNodes.from_leaves(leaves)
    for level, index, value in Node.objects.values_list("level", "index", "hash"):
        assert expected.get_nodes([(level, index)])[(level, index)] == bytes(value)
    assert Node.objects.count() == sum(44 >> level for level in range(services.NODE_MIN_LEVEL, 7))
    # The connection's remembered end is the batch's last event, so the next append's
    # guard holds at once (a wrong end would only show as a miss and a re-read).
    tail = connection._safehold_audit_tail  # type: ignore[attr-defined]  # the cache under test
    assert (tail.size, tail.last_leaf) == (44, bytes(stored[43].leaf_hash))
    assert (
        tail.edge
        == merkle.CompactRange.from_nodes(44, merkle.MemoryNodes.from_leaves(leaves)).hashes
    )
    _append(1, start=44)
    assert not connection._safehold_audit_contended  # type: ignore[attr-defined]  # likewise
    with pytest.raises(ValueError, match="tab or a newline"):
        record_event(EventType.PROFILE_UPDATED, actor=Actor(ActorKind.STAFF, "a\tb", "", ""))
    assert Event.objects.count() == 45


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of 7 events in chunks of 3, so 40 events take several worker processes."""
    monkeypatch.setattr(verify, "_RANGE", 7)
    monkeypatch.setattr(verify, "_CHUNK", 3)


def _reports(jobs: int) -> tuple[bool, list[str], int]:
    report = verify_log(jobs=jobs)
    return report.ok, report.problems, report.events


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("damage", ["none", "edit", "delete", "truncate", "rewrite"])
def test_verifying_in_several_processes_reports_what_one_process_does(
    small_ranges: None, damage: str
) -> None:
    """On PostgreSQL the worker processes are real; SQLite's in-memory test database
    cannot be opened by another process, so there both runs take the one-process path."""
    _append(20)
    services.make_checkpoint()
    _append(20, start=20)
    services.make_checkpoint()
    if damage != "none":
        triggers.remove(connection)
        with connection.cursor() as cursor:
            if damage == "edit":
                cursor.execute("UPDATE audit_event SET data = %s WHERE seq = 15", [b"forged"])
            elif damage == "rewrite":  # a new leaf hash to match: only the roots can tell
                cursor.execute("SELECT data FROM audit_event WHERE seq = 15")
                forged = bytes(cursor.fetchone()[0]).replace(b'{"i":15}', b'{"i":99}')
                leaf = hashlib.sha256(b"\x00" + forged).digest()
                cursor.execute(
                    "UPDATE audit_event SET data = %s, leaf_hash = %s WHERE seq = 15",
                    [forged, leaf],
                )
            elif damage == "delete":
                cursor.execute("DELETE FROM audit_event WHERE seq = 21")  # a range boundary
            else:
                cursor.execute("DELETE FROM audit_event WHERE seq >= 30")
    one = _reports(1)
    several = _reports(2)
    assert several == one
    assert one[0] is (damage == "none")


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_an_events_seq_is_the_rowid_and_the_migration_keeps_the_log() -> None:
    """Migration 0005 copies the event table into one whose ``seq`` is SQLite's rowid (no
    second B-tree to write per append); the events, the triggers and the log survive it."""
    if connection.vendor != "sqlite":
        pytest.skip("the rowid is SQLite's; on PostgreSQL the column stays bigint")
    from django.db.migrations.executor import MigrationExecutor

    def declared() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_event'")
            return str(cursor.fetchone()[0])

    def autoindexes() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA index_list(audit_event)")
            return [row[1] for row in cursor.fetchall() if row[1].startswith("sqlite_autoindex")]

    _append(21)
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0004_checkpoint_origin")])
    with connection.cursor() as cursor:  # going back rebuilt the head row from the log
        cursor.execute("SELECT size, length(edge) FROM audit_head WHERE id = 1")
        assert cursor.fetchone() == (21, 32 * (21).bit_count())
    assert '"seq" bigint' in declared()
    assert autoindexes()  # the old primary key: a B-tree of its own
    _append(20, start=21)
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0006_drop_head")])
    assert '"seq" integer NOT NULL PRIMARY KEY' in declared()
    assert autoindexes() == []
    _append(5, start=41)
    _assert_one_consecutive_log(46)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE seq = 3")  # the triggers came back
    assert Event.objects.count() == 46


@pytest.mark.django_db(transaction=True)
def test_the_append_knows_whether_its_transaction_holds_events_of_its_own() -> None:
    """After a miss on PostgreSQL an append waits for the append lock only if its
    transaction holds no event yet: one that does may be what the lock's holder waits
    for. Savepoints rolled back take their events, and the mark, with them."""
    if connection.vendor != "postgresql":
        pytest.skip("the mark serves PostgreSQL's append lock; SQLite's one writer needs none")

    class Undo(Exception):
        pass

    seen: list[bool] = []

    def append_then_undo(start: int) -> None:
        try:
            with transaction.atomic():
                _append(1, start=start)
                seen.append(services._appended_in_transaction(connection))
                raise Undo
        except Undo:
            pass

    with transaction.atomic():
        assert not services._appended_in_transaction(connection)
        append_then_undo(0)
        assert seen == [True]
        assert not services._appended_in_transaction(connection)  # its event went too
        _append(2, start=0)
        append_then_undo(2)
        assert services._appended_in_transaction(connection)  # the first two still stand
    with transaction.atomic():  # the next transaction starts without the mark
        assert not services._appended_in_transaction(connection)
    _assert_one_consecutive_log(2)
